/**
 * `fromReadableStream(stream)`: an input from a WHATWG `ReadableStream`.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { PullSource, type ChunkDecoder } from './pull-source.js'

/** Options of {@link fromReadableStream}. */
export interface FromReadableStreamOptions {
  /** Turns each chunk into frames (e.g. bytes into `audioRaw` frames). Default: chunks must be frames. */
  readonly decode?: ChunkDecoder
}

/**
 * An input (an `AsyncIterable<Frame>`) that reads `stream` — a stream of frames, or of any chunks with `decode`.
 * Pull-based: a chunk is read only when the pipeline wants the next frame, so the stream's own queue and
 * backpressure apply. The reader lock is taken when iteration starts and released when the stream ends; early
 * teardown (`return()`, e.g. the run was cancelled) cancels the stream, even while a read is pending. A chunk that
 * is not a frame (or that `decode` rejects) fails the input with a `TypeError` and cancels the stream.
 *
 * @example
 * ```ts
 * import { fromReadableStream, run, Frames } from 'apipeline-ts'
 *
 * const response = await fetch(url)
 * const input = fromReadableStream(response.body!, { decode: (bytes: Uint8Array) => Frames.audioRaw({ audio: bytes }) })
 * for await (const f of run(bot, input)) play(f)
 * ```
 */
export function fromReadableStream(stream: ReadableStream<unknown>, options: FromReadableStreamOptions = {}): AsyncIterable<Frame> {
  if (stream === null || typeof stream !== 'object' || typeof (stream as ReadableStream).getReader !== 'function') {
    throw new TypeError('fromReadableStream(stream) needs a WHATWG ReadableStream')
  }
  if (options === null || typeof options !== 'object') throw new TypeError('fromReadableStream(options) must be an object')
  const decode = options.decode
  if (decode !== undefined && typeof decode !== 'function') throw new TypeError('fromReadableStream: decode must be a function')
  return {
    [Symbol.asyncIterator](): AsyncIterator<Frame> {
      const reader = stream.getReader()
      let released = false
      return new PullSource(
        'fromReadableStream',
        {
          read: () => reader.read() as Promise<IteratorResult<unknown>>,
          cancel: () => reader.cancel(),
          release: () => {
            if (released) return
            released = true
            reader.releaseLock()
          },
        },
        decode,
      )
    },
  }
}
