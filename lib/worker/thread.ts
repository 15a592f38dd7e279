/**
 * The code every thread of a worker-thread stage runs (the pool's task handler). It imports the user's module once,
 * rebuilds each posted frame with its identity, calls the handler, and posts the outputs back with their byte
 * buffers moved. Errors are answered as data, so the stage can report them with their name and fatality.
 * @module
 */
import { workerData } from 'node:worker_threads'
import { move, transferableSymbol, valueSymbol } from 'piscina'
import type { Frame } from '../frames/types.js'
import { describe } from '../frames/validate.js'
import { packFrame, unpackFrame, type FrameRecord } from './frame-transfer.js'
import type { ThreadData, ThreadFailure, ThreadReply, ThreadRequest } from './protocol.js'

type Handler = (frame: Frame) => unknown

const data = workerData as ThreadData
let loading: Promise<Handler> | undefined

function load(): Promise<Handler> {
  loading ??= import(data.moduleUrl).then((mod: Record<string, unknown>) => {
    const handler = mod[data.exportName]
    if (typeof handler !== 'function') {
      const exports = Object.keys(mod).join(', ')
      throw new TypeError(`export "${data.exportName}" of ${data.moduleUrl} is ${describe(handler)}, not a function (exports: ${exports === '' ? 'none' : exports})`)
    }
    return handler as Handler
  })
  return loading
}

function failure(err: unknown, isLoading: boolean): ThreadReply {
  const e = typeof err === 'object' && err !== null ? (err as { name?: unknown; message?: unknown; stack?: unknown; fatal?: unknown }) : {}
  const f: ThreadFailure = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
    fatal: e.fatal === true,
    loading: isLoading,
    ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
  }
  return { ok: false, failure: f }
}

function isFrameLike(value: unknown): value is Frame {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && typeof (value as { kind?: unknown }).kind === 'string'
}

/** Handles one pool task. */
export default async function handleTask(request: ThreadRequest): Promise<unknown> {
  let handler: Handler
  try {
    handler = await load()
  } catch (err) {
    return failure(err, true)
  }
  if ('probe' in request) return { ok: true, outputs: [], same: [] } satisfies ThreadReply
  let input: Frame
  let result: unknown
  try {
    const record = request.frame
    input = unpackFrame(record, { id: record['id'] as number, name: record['name'] as string })
    result = await handler(input)
  } catch (err) {
    return failure(err, false)
  }
  const list: readonly unknown[] = result === undefined || result === null ? [] : Array.isArray(result) ? result : [result]
  const transfer = new Set<ArrayBuffer>()
  const outputs: FrameRecord[] = []
  const same: boolean[] = []
  for (const item of list) {
    if (!isFrameLike(item)) return failure(new TypeError(`the handler returned ${describe(item)}, not a frame`), false)
    // The thread's copies are dropped after the reply, so every buffer is moved.
    outputs.push(packFrame(item, true, transfer))
    same.push(item === input)
  }
  const reply: ThreadReply = { ok: true, outputs, same }
  return move({ [transferableSymbol]: [...transfer], [valueSymbol]: reply })
}
