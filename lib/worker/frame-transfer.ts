/**
 * Frames across threads: a frame becomes a plain record for `postMessage` whose byte buffers go in the transfer list
 * (moved, not copied), and a record that comes back becomes a frame again through the public constructors, so every
 * field is validated and the frame gets an identity of the receiving thread.
 * @module
 */
import { app, audioRaw, cancel, end, error, imageRaw, interruption, interruptionTask, metrics, start, startInterruption, stopInterruption, stopTask, sync, syncNotify, text } from '../frames/constructors.js'
import { isBuiltinType, TYPE_KINDS } from '../frames/identity.js'
import { uninterruptible } from '../interruption/uninterruptible.js'
import type { Frame, MetricValue } from '../frames/types.js'
import { describe } from '../frames/validate.js'

/** A frame as it crosses a thread boundary: its own enumerable fields (structured-cloneable). */
export type FrameRecord = { readonly [field: string]: unknown }

/** How deep app data is searched for byte buffers to move. */
const MAX_DEPTH = 32

/**
 * The bytes to send for `bytes`: the view itself when it spans its whole (non-shared) buffer and `move` is set — its
 * buffer joins `transfer` and is detached on this side once sent — otherwise an exact copy whose fresh buffer is
 * moved, so the rest of a larger buffer (a Node `Buffer` pool slab, a view into a network packet) never travels or
 * detaches.
 */
export function portableBytes(bytes: Uint8Array, move: boolean, transfer: Set<ArrayBuffer>): Uint8Array {
  const buffer = bytes.buffer
  if (move && buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) {
    transfer.add(buffer)
    return bytes
  }
  const copy = new Uint8Array(bytes)
  transfer.add(copy.buffer)
  return copy
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Adds the whole (non-shared) buffers of the typed arrays in app `data` (plain objects and arrays) to `transfer`. */
function collectBuffers(value: unknown, transfer: Set<ArrayBuffer>, seen: Set<object>, depth: number): void {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH || seen.has(value)) return
  seen.add(value)
  if (value instanceof ArrayBuffer) {
    transfer.add(value)
  } else if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength) transfer.add(buffer)
  } else if (Array.isArray(value)) {
    for (const item of value) collectBuffers(item, transfer, seen, depth + 1)
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) collectBuffers((value as Record<string, unknown>)[key], transfer, seen, depth + 1)
  }
}

/**
 * The record to post for `frame`, adding the buffers to move to `transfer`.
 *
 * - `audioRaw.audio` / `imageRaw.image`: moved when the view spans its whole buffer and `move` is set (the frame's
 *   bytes are then detached on this side), else copied once into an exact-size buffer that is moved.
 * - app frames: with `move`, every typed array or `ArrayBuffer` in `data` (through plain objects and arrays) that
 *   spans a whole buffer is moved; the rest of `data` is structured-cloned.
 * - `error.cause` stays behind (in-memory only, like in the wire formats).
 */
export function packFrame(frame: Frame, move: boolean, transfer: Set<ArrayBuffer>): FrameRecord {
  if (frame.kind === 'app') {
    if (move) collectBuffers(frame.data, transfer, new Set(), 0)
    return { ...frame }
  }
  switch (frame.type) {
    case 'audioRaw':
      return { ...frame, audio: portableBytes(frame.audio, move, transfer) }
    case 'imageRaw':
      return { ...frame, image: portableBytes(frame.image, move, transfer) }
    case 'error': {
      const { cause: _cause, ...rest } = frame
      return rest
    }
    default:
      return { ...frame }
  }
}

/** Thrown by {@link unpackFrame} for a record that is not a valid frame. */
export class FrameRecordError extends TypeError {
  override readonly name = 'FrameRecordError'
}

function field<T>(record: FrameRecord, key: string): T {
  return record[key] as T
}

/** The frame for `record`, built by the constructor of its type (which validates every field), with a fresh identity. */
function construct(record: FrameRecord): Frame {
  const type = record['type']
  if (typeof type !== 'string' || type.length === 0) throw new FrameRecordError(`not a frame: its type is ${describe(type)}`)
  if (!isBuiltinType(type)) {
    if (record['kind'] !== 'app') throw new FrameRecordError(`not a frame: type "${type}" with kind ${describe(record['kind'])}`)
    return app(type, record['data'])
  }
  if (record['kind'] !== TYPE_KINDS[type]) {
    throw new FrameRecordError(`not a frame: a "${type}" frame must have kind "${TYPE_KINDS[type]}", got ${describe(record['kind'])}`)
  }
  switch (type) {
    case 'text':
      return text(field(record, 'text'))
    case 'audioRaw':
      return audioRaw({
        audio: field(record, 'audio'),
        sampleRate: field(record, 'sampleRate'),
        numChannels: field(record, 'numChannels'),
        sampleWidth: field(record, 'sampleWidth'),
      })
    case 'imageRaw':
      return imageRaw({ image: field(record, 'image'), size: field(record, 'size'), format: field(record, 'format'), mode: field(record, 'mode') })
    case 'start':
      return start({
        allowInterruptions: field(record, 'allowInterruptions'),
        enableMetrics: field(record, 'enableMetrics'),
        enableUsageMetrics: field(record, 'enableUsageMetrics'),
        reportOnlyInitialTtfb: field(record, 'reportOnlyInitialTtfb'),
        audioInSampleRate: field(record, 'audioInSampleRate'),
        audioOutSampleRate: field(record, 'audioOutSampleRate'),
      })
    case 'error': {
      const processor = record['processor']
      return error(field(record, 'error'), { fatal: field(record, 'fatal'), ...(processor === undefined ? {} : { processor: processor as string }) })
    }
    case 'metrics':
      return metrics({
        ttfb: field<readonly MetricValue[]>(record, 'ttfb'),
        processing: field<readonly MetricValue[]>(record, 'processing'),
        tokens: field<readonly MetricValue[]>(record, 'tokens'),
        characters: field<readonly MetricValue[]>(record, 'characters'),
      })
    case 'end':
      return end()
    case 'sync':
      return sync()
    case 'syncNotify':
      return syncNotify()
    case 'cancel':
      return cancel()
    case 'stopTask':
      return stopTask()
    case 'interruptionTask':
      return interruptionTask()
    case 'startInterruption':
      return startInterruption()
    case 'stopInterruption':
      return stopInterruption()
    case 'interruption':
      return interruption()
  }
}

/**
 * The frame a posted record stands for, built through the public constructors. With `identity`, the frame keeps that
 * `id` and `name` (the same frame on both sides); otherwise it gets a fresh identity of this thread.
 * Throws a {@link FrameRecordError} naming the problem for anything that is not a valid frame.
 */
export function unpackFrame(value: unknown, identity?: { readonly id: number; readonly name: string }): Frame {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FrameRecordError(`not a frame: ${describe(value)}`)
  let frame: Frame
  try {
    frame = construct(value as FrameRecord)
  } catch (err) {
    if (err instanceof FrameRecordError) throw err
    throw new FrameRecordError(`not a valid frame: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  const mark = (value as FrameRecord)['uninterruptible']
  if (mark !== undefined && typeof mark !== 'boolean') throw new FrameRecordError(`not a frame: uninterruptible is ${describe(mark)}`)
  // The constructors build ordinary frames: the mark that no interruption drops this frame travels as a field.
  if (mark === true) frame = uninterruptible(frame)
  if (identity === undefined) return frame
  const { id, name } = identity
  if (!Number.isSafeInteger(id) || id < 0) throw new FrameRecordError(`not a frame identity: id ${describe(id)}`)
  if (typeof name !== 'string') throw new FrameRecordError(`not a frame identity: name ${describe(name)}`)
  // The frame was just built here and is not shared yet: it takes the identity in place (no second copy per frame).
  const own = frame as { id: number; name: string }
  own.id = id
  own.name = name
  return frame
}
