/**
 * The code every thread of a worker-thread stage runs. It imports the user's module once (and says whether that
 * worked), then handles the batches of frames the stage posts, one frame after the other: it rebuilds each frame with
 * its identity, calls the handler, and posts one outcome per frame back in one message, the byte buffers of the
 * outputs in its transfer list. Errors are answered as data, so the stage can report them with their name and
 * fatality; frames of a batch that an interruption overtook are skipped.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { Frame } from '../frames/types.js'
import { describe } from '../frames/validate.js'
import { packFrame, unpackFrame, type FrameRecord } from './frame-transfer.js'
import { PROGRESS_BATCH, PROGRESS_FRAME, type BatchRequest, type FrameOutcome, type ThreadData, type ThreadFailure, type ThreadMessage } from './protocol.js'

type Handler = (frame: Frame) => unknown

const data = workerData as ThreadData
const port = parentPort
const epoch = new Int32Array(data.epoch)
const progress = new Int32Array(data.progress)

function failure(err: unknown): ThreadFailure {
  const e = typeof err === 'object' && err !== null ? (err as { name?: unknown; message?: unknown; stack?: unknown; fatal?: unknown }) : {}
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
    fatal: e.fatal === true,
    ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
  }
}

function isFrameLike(value: unknown): value is Frame {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && typeof (value as { kind?: unknown }).kind === 'string'
}

async function load(): Promise<Handler> {
  const mod = (await import(data.moduleUrl)) as Record<string, unknown>
  const handler = mod[data.exportName]
  if (typeof handler !== 'function') {
    const exports = Object.keys(mod).join(', ')
    throw new TypeError(`export "${data.exportName}" of ${data.moduleUrl} is ${describe(handler)}, not a function (exports: ${exports === '' ? 'none' : exports})`)
  }
  return handler as Handler
}

/** Handles one frame; the buffers of its outputs join `transfer`. */
async function handle(handler: Handler, record: FrameRecord, transfer: Set<ArrayBuffer>): Promise<FrameOutcome> {
  let input: Frame
  let result: unknown
  try {
    input = unpackFrame(record, { id: record['id'] as number, name: record['name'] as string })
    result = handler(input)
    // Only a thenable is awaited: a synchronous handler costs no promise reaction per frame.
    if (typeof (result as { then?: unknown } | null)?.then === 'function') result = await result
  } catch (err) {
    return { failure: failure(err) }
  }
  const list: readonly unknown[] = result === undefined || result === null ? [] : Array.isArray(result) ? result : [result]
  const outputs: FrameRecord[] = []
  const same: boolean[] = []
  const moved = new Set<ArrayBuffer>()
  for (const item of list) {
    if (!isFrameLike(item)) return { failure: failure(new TypeError(`the handler returned ${describe(item)}, not a frame`)) }
    try {
      // The thread's copies are dropped after the reply, so every buffer is moved.
      outputs.push(packFrame(item, true, moved))
    } catch (err) {
      return { failure: failure(err) }
    }
    same.push(item === input)
  }
  for (const buffer of moved) transfer.add(buffer)
  return { outputs, same }
}

/** The batch being handled: the outcomes so far, and whether a frame of it is in the handler. */
interface Current {
  readonly batch: BatchRequest
  readonly outcomes: FrameOutcome[]
  readonly transfer: Set<ArrayBuffer>
  inFrame: boolean
}

let current: Current | undefined
/** Batches received and not started, in order. */
const waiting: BatchRequest[] = []
let working = false

/** Posts the outcomes of a batch; a frame whose outputs cannot be cloned fails, the others go as they are. */
function answer(seq: number, outcomes: readonly FrameOutcome[], transfer: Set<ArrayBuffer>): void {
  try {
    port?.postMessage({ seq, outcomes } satisfies ThreadMessage, [...transfer])
  } catch {
    // Something in an output cannot be cloned (a function in app data, …): nothing was sent or moved.
    const checked = outcomes.map((outcome): FrameOutcome => {
      if (!('outputs' in outcome)) return outcome
      try {
        structuredClone(outcome.outputs)
        return outcome
      } catch (cloneError) {
        return { failure: failure(new TypeError(`the handler returned a frame that cannot be sent between threads: ${failure(cloneError).message}`)) }
      }
    })
    port?.postMessage({ seq, outcomes: checked } satisfies ThreadMessage, [...transfer])
  }
}

async function handleBatch(handler: Handler, batch: BatchRequest): Promise<void> {
  const run: Current = { batch, outcomes: [], transfer: new Set(), inFrame: false }
  current = run
  Atomics.store(progress, PROGRESS_BATCH, batch.seq)
  for (let i = 0; i < batch.frames.length; i++) {
    if (Atomics.load(epoch, 0) !== batch.epoch) {
      run.outcomes.push({ skipped: true })
      continue
    }
    Atomics.store(progress, PROGRESS_FRAME, i)
    run.inFrame = true
    run.outcomes.push(await handle(handler, batch.frames[i] as FrameRecord, run.transfer))
    run.inFrame = false
  }
  Atomics.store(progress, PROGRESS_FRAME, -1)
  current = undefined
  answer(batch.seq, run.outcomes, run.transfer)
}

/** Handles the waiting batches one after the other, in the order they came. */
async function work(handler: Handler): Promise<void> {
  if (working) return
  working = true
  try {
    for (let batch = waiting.shift(); batch !== undefined; batch = waiting.shift()) await handleBatch(handler, batch)
  } finally {
    working = false
  }
}

/**
 * The thread is exiting (the handler called `process.exit()`, or an error escaped it): say so, then answer every batch
 * it holds — the frames it finished, the one it was in as `died`, the others handed back as received (their buffers
 * moved back) so that another thread can take them.
 */
function onExit(code: number): void {
  if (port === null) return
  port.postMessage({ exiting: code } satisfies ThreadMessage)
  const batches: { batch: BatchRequest; outcomes: FrameOutcome[]; transfer: Set<ArrayBuffer> }[] = []
  if (current !== undefined) {
    const outcomes = [...current.outcomes]
    if (current.inFrame) outcomes.push({ died: code })
    batches.push({ batch: current.batch, outcomes, transfer: current.transfer })
  }
  for (const batch of waiting) batches.push({ batch, outcomes: [], transfer: new Set() })
  for (const { batch, outcomes, transfer } of batches) {
    for (let i = outcomes.length; i < batch.frames.length; i++) {
      const record = batch.frames[i] as FrameRecord
      packFrame(record as unknown as Frame, true, transfer)
      outcomes.push({ unstarted: record })
    }
    answer(batch.seq, outcomes, transfer)
  }
}

async function main(): Promise<void> {
  if (port === null) throw new Error('the worker-thread stage code must run in a worker thread')
  process.on('exit', onExit)
  let handler: Handler
  try {
    handler = await load()
  } catch (err) {
    port.postMessage({ loadFailure: failure(err) } satisfies ThreadMessage)
    return
  }
  port.on('message', (batch: BatchRequest) => {
    waiting.push(batch)
    void work(handler)
  })
  port.postMessage({ ready: true } satisfies ThreadMessage)
}

void main()
