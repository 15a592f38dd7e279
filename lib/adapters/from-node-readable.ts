/**
 * `fromNodeReadable(readable)`: an input from a Node.js `Readable` stream.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { PullSource, type ChunkDecoder } from './pull-source.js'

/** The part of a Node `Readable` the adapter uses (no import of `node:stream` needed). */
export interface NodeReadableLike extends AsyncIterable<unknown> {
  destroy(error?: Error): unknown
}

/** Options of {@link fromNodeReadable}. */
export interface FromNodeReadableOptions {
  /**
   * Turns each chunk into frames — for byte streams (e.g. `(b: Buffer) => Frames.audioRaw({ audio: b })`). Default:
   * chunks must be frames (an `objectMode` stream of frames).
   */
  readonly decode?: ChunkDecoder
}

/**
 * An input (an `AsyncIterable<Frame>`) that reads a Node `Readable`: an `objectMode` stream of frames, or a byte
 * stream with `decode`. Reads through the stream's async iterator, so the stream pauses while the pipeline is busy
 * (backpressure through `highWaterMark`). Early teardown (`return()`, e.g. the run was cancelled) destroys the stream
 * at once, even while a read is pending. A stream error fails the input (the run ends `'errored'`).
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs'
 * import { fromNodeReadable, run, Frames } from 'apipeline-ts'
 *
 * const pcm = createReadStream('speech.raw', { highWaterMark: 3200 })
 * const input = fromNodeReadable(pcm, { decode: (b: Buffer) => Frames.audioRaw({ audio: b, sampleRate: 16000 }) })
 * for await (const f of run(asr, input)) console.log(f)
 * ```
 */
export function fromNodeReadable(readable: NodeReadableLike, options: FromNodeReadableOptions = {}): AsyncIterable<Frame> {
  if (
    readable === null ||
    typeof readable !== 'object' ||
    typeof readable.destroy !== 'function' ||
    typeof (readable as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== 'function'
  ) {
    throw new TypeError('fromNodeReadable(readable) needs a Node Readable stream (async iterable with destroy())')
  }
  if (options === null || typeof options !== 'object') throw new TypeError('fromNodeReadable(options) must be an object')
  const decode = options.decode
  if (decode !== undefined && typeof decode !== 'function') throw new TypeError('fromNodeReadable: decode must be a function')
  return {
    [Symbol.asyncIterator](): AsyncIterator<Frame> {
      const it = readable[Symbol.asyncIterator]()
      return new PullSource(
        'fromNodeReadable',
        {
          read: () => it.next(),
          cancel: () => {
            readable.destroy()
          },
        },
        decode,
      )
    },
  }
}
