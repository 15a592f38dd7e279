/**
 * The loop shared by the sinks that end an it-pipe (`toWritable`, `toNodeWritable`): write the selected frames,
 * wait while the stream is full, drop what an interruption made stale, close at the end.
 * @module
 */
import type { Frame } from '../frames/types.js'

/** Options of the sinks that end an it-pipe. */
export interface StreamSinkOptions {
  /** Which frames are written. Default: data frames. Others are skipped. */
  readonly select?: (frame: Frame) => boolean
  /** Turns a frame into the chunk to write (e.g. `(f) => f.audio`). Default: the frame itself. */
  readonly encode?: (frame: Frame) => unknown
  /** Close (end) the stream once the source is over. Default true. */
  readonly close?: boolean
  /**
   * Called on `startInterruption` (and `interruption`), after the frame that was waiting for room has been dropped:
   * clear what the device still holds (e.g. stop the audio player).
   */
  readonly onInterruption?: () => void
}

/** What the shared loop needs from a stream. @internal */
export interface StreamTarget {
  /** `undefined` when a write may go now, else a promise that resolves once there is room (rejects if the stream fails). */
  room(): Promise<void> | undefined
  write(chunk: unknown): void
  /** Closes the stream after the pending writes; resolves once they are flushed. */
  close(): Promise<void>
  /** Abandons the stream after a failure of the source. */
  abort(reason: unknown): void
}

const isInterruption = (frame: Frame): boolean =>
  frame.kind === 'system' && (frame.type === 'startInterruption' || frame.type === 'interruption')

function isAsyncIterable(value: unknown): value is AsyncIterable<Frame> {
  return value !== null && typeof value === 'object' && typeof (value as Partial<AsyncIterable<Frame>>)[Symbol.asyncIterator] === 'function'
}

function isIterable(value: unknown): value is Iterable<Frame> {
  return value !== null && typeof value === 'object' && typeof (value as Partial<Iterable<Frame>>)[Symbol.iterator] === 'function'
}

/** Checks the options; returns them with defaults. @internal */
export function parseStreamSinkOptions(where: string, options: unknown): Required<Omit<StreamSinkOptions, 'onInterruption'>> & Pick<StreamSinkOptions, 'onInterruption'> {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}(options) must be an object`)
  const o = options as StreamSinkOptions
  for (const key of ['select', 'encode', 'onInterruption'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new TypeError(`${where}: ${key} must be a function`)
  }
  if (o.close !== undefined && typeof o.close !== 'boolean') throw new TypeError(`${where}: close must be a boolean`)
  const parsed = {
    select: o.select ?? ((f: Frame) => f.kind === 'data'),
    encode: o.encode ?? ((f: Frame) => f),
    close: o.close ?? true,
  }
  return o.onInterruption === undefined ? parsed : { ...parsed, onInterruption: o.onInterruption }
}

/**
 * Writes `source` into `target`. While the stream is full it reads at most one frame ahead: an interruption drops
 * the frame waiting for room (it is stale) and calls `onInterruption`; any other frame waits its turn. Resolves once
 * the source is over and the stream closed; rejects if the source, `select`, `encode` or the stream fails.
 * @internal
 */
export async function writeFrames(
  source: AsyncIterable<Frame> | Iterable<Frame>,
  target: StreamTarget,
  options: ReturnType<typeof parseStreamSinkOptions>,
): Promise<void> {
  let it: AsyncIterator<Frame> | Iterator<Frame>
  if (isAsyncIterable(source)) it = source[Symbol.asyncIterator]()
  else if (isIterable(source)) it = source[Symbol.iterator]()
  else throw new TypeError('sink: the source must be an Iterable or AsyncIterable of frames')
  const pull = (): Promise<IteratorResult<Frame>> => Promise.resolve(it.next())
  let ahead: Promise<IteratorResult<Frame>> | undefined
  let finished = false
  try {
    for (;;) {
      const r = await (ahead ?? pull())
      ahead = undefined
      if (r.done === true) break
      const frame = r.value
      if (isInterruption(frame)) {
        options.onInterruption?.()
        continue
      }
      if (!options.select(frame)) continue
      const chunk = options.encode(frame)
      const room = target.room()
      if (room !== undefined) {
        // Full: wait for room, but watch the next frame meanwhile; an interruption makes this chunk stale.
        ahead = pull()
        const next = ahead.then((n) => ({ next: n }))
        // Rejections of `ahead` are handled where it is awaited (next loop turn); keep this one quiet.
        next.catch(() => {})
        const first = await Promise.race([room.then(() => undefined), next])
        if (first !== undefined && first.next.done !== true && isInterruption(first.next.value)) {
          ahead = undefined
          options.onInterruption?.()
          // The stale chunk is dropped; still let the stream drain before the next write.
          await room
          continue
        }
        await room
      }
      target.write(chunk)
    }
    finished = true
    if (options.close) await target.close()
  } catch (err) {
    if (!finished) {
      target.abort(err)
      if (ahead !== undefined) ahead.catch(() => {})
      try {
        const closing = it.return?.()
        if (closing instanceof Promise) closing.catch(() => {})
      } catch {
        // The source's own cleanup failed; the first error is the one reported.
      }
    }
    throw err
  }
}
