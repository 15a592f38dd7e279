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
import { encodedCount, EncodedFramesReader, OutputsWriter } from './batch-codec.js'
import { packFrame } from './frame-transfer.js'
import { PROGRESS_BATCH, PROGRESS_FRAME, type BatchReply, type BatchRequest, type OtherOutcome, type ThreadData, type ThreadFailure, type ThreadMessage } from './protocol.js'

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

/** What became of one frame in this thread: its outputs (`same[i]`: `outputs[i]` is the input frame), or another outcome. */
type Handled = { readonly outputs: readonly Frame[]; readonly same: readonly boolean[] } | OtherOutcome

/** Handles frame `i` of `batch`. */
async function handle(handler: Handler, batch: EncodedFramesReader, i: number): Promise<Handled> {
  let input: Frame
  let result: unknown
  try {
    input = batch.frame(i)
    result = handler(input)
    // Only a thenable is awaited: a synchronous handler costs no promise reaction per frame.
    if (typeof (result as { then?: unknown } | null)?.then === 'function') result = await result
  } catch (err) {
    return { failure: failure(err) }
  }
  if (result === undefined || result === null) return { outputs: [], same: [] }
  // The common case, one frame back: no list to build.
  if (!Array.isArray(result)) {
    if (!isFrameLike(result)) return { failure: failure(new TypeError(`the handler returned ${describe(result)}, not a frame`)) }
    return { outputs: [result], same: [result === input] }
  }
  const same: boolean[] = []
  for (const item of result as readonly unknown[]) {
    if (!isFrameLike(item)) return { failure: failure(new TypeError(`the handler returned ${describe(item)}, not a frame`)) }
    same.push(item === input)
  }
  return { outputs: result as readonly Frame[], same }
}

/** The batch being handled: its frames, the outcomes so far, and whether a frame of it is in the handler. */
interface Current {
  readonly seq: number
  readonly frames: EncodedFramesReader | undefined
  readonly outcomes: Handled[]
  inFrame: boolean
}

let current: Current | undefined
/** Batches received and not started, in order. */
const waiting: BatchRequest[] = []
let working = false

/** The reply for `outcomes`; the buffers to move join `transfer`. A frame whose outputs cannot be encoded fails. */
function reply(seq: number, outcomes: readonly Handled[], transfer: Set<ArrayBuffer>): BatchReply {
  const writer = new OutputsWriter()
  const others: OtherOutcome[] = []
  for (const outcome of outcomes) {
    if ('outputs' in outcome) {
      try {
        writer.outputs(outcome.outputs, outcome.same, transfer)
        continue
      } catch (err) {
        others.push({ failure: failure(err) })
      }
    } else others.push(outcome)
    writer.other(others.length - 1)
  }
  return { seq, ...writer.finish(transfer), others }
}

/** Posts the outcomes of a batch; a frame whose outputs cannot be cloned fails, the others go as they are. */
function answer(seq: number, outcomes: readonly Handled[]): void {
  let transfer = new Set<ArrayBuffer>()
  try {
    port?.postMessage(reply(seq, outcomes, transfer), [...transfer])
  } catch {
    // Something in an output cannot be cloned (a function in app data, …): nothing was sent or moved.
    const checked = outcomes.map((outcome): Handled => {
      if (!('outputs' in outcome)) return outcome
      try {
        structuredClone(outcome.outputs.map((f) => packFrame(f, false, new Set())))
        return outcome
      } catch (cloneError) {
        return { failure: failure(new TypeError(`the handler returned a frame that cannot be sent between threads: ${failure(cloneError).message}`)) }
      }
    })
    transfer = new Set()
    port?.postMessage(reply(seq, checked, transfer), [...transfer])
  }
}

/** The frames of `batch`, or the failure that each of them gets when the batch cannot be read. */
function readerOf(batch: BatchRequest): EncodedFramesReader | ThreadFailure {
  try {
    return new EncodedFramesReader(batch)
  } catch (err) {
    return failure(err)
  }
}

/** Frames in `batch` as far as it can tell (0 for a batch that cannot be read at all). */
function countOf(batch: BatchRequest): number {
  try {
    return encodedCount(batch)
  } catch {
    return 0
  }
}

async function handleBatch(handler: Handler, batch: BatchRequest): Promise<void> {
  const frames = readerOf(batch)
  const run: Current = { seq: batch.seq, frames: frames instanceof EncodedFramesReader ? frames : undefined, outcomes: [], inFrame: false }
  current = run
  Atomics.store(progress, PROGRESS_BATCH, batch.seq)
  const count = run.frames?.count ?? countOf(batch)
  for (let i = 0; i < count; i++) {
    if (run.frames === undefined) {
      run.outcomes.push({ failure: frames as ThreadFailure })
      continue
    }
    if (Atomics.load(epoch, 0) !== batch.epoch) {
      run.outcomes.push({ skipped: true })
      continue
    }
    Atomics.store(progress, PROGRESS_FRAME, i)
    run.inFrame = true
    run.outcomes.push(await handle(handler, run.frames, i))
    run.inFrame = false
  }
  Atomics.store(progress, PROGRESS_FRAME, -1)
  current = undefined
  answer(batch.seq, run.outcomes)
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

/** Frame `i` of `frames` handed back as received (its buffers moved back), or a failure when it cannot be read. */
function handBack(frames: EncodedFramesReader | undefined, i: number, transfer: Set<ArrayBuffer>): OtherOutcome {
  if (frames === undefined) return { failure: failure(new TypeError('the batch of frames cannot be read')) }
  try {
    return { unstarted: packFrame(frames.frame(i), true, transfer) }
  } catch (err) {
    return { failure: failure(err) }
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
  const batches: { seq: number; frames: EncodedFramesReader | undefined; count: number; outcomes: Handled[] }[] = []
  if (current !== undefined) {
    const outcomes = [...current.outcomes]
    if (current.inFrame) outcomes.push({ died: code })
    batches.push({ seq: current.seq, frames: current.frames, count: current.frames?.count ?? outcomes.length, outcomes })
  }
  for (const batch of waiting) {
    const frames = readerOf(batch)
    const reader = frames instanceof EncodedFramesReader ? frames : undefined
    batches.push({ seq: batch.seq, frames: reader, count: reader?.count ?? countOf(batch), outcomes: [] })
  }
  for (const { seq, frames, count, outcomes } of batches) {
    const transfer = new Set<ArrayBuffer>()
    const handedBack: Handled[] = [...outcomes]
    for (let i = outcomes.length; i < count; i++) handedBack.push(handBack(frames, i, transfer))
    const encoded = reply(seq, handedBack, transfer)
    port.postMessage(encoded, [...transfer])
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
