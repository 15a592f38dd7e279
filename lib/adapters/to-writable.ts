/**
 * `toWritable(stream)`: an it-pipe sink writing frames to a WHATWG `WritableStream`.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { parseStreamSinkOptions, writeFrames, type StreamSinkOptions } from './stream-sink.js'

/**
 * A sink that ends an it-pipe (or consumes any frame iterable): writes the selected frames (default: data frames),
 * encoded by `encode`, to a WHATWG `WritableStream`, waiting on `writer.ready` so a slow stream slows the pipeline.
 * An interruption (`startInterruption`) drops the frame waiting for room and calls `onInterruption`. Closes the
 * stream when the source is over (`close: false` keeps it open); aborts it if the source fails (the returned promise
 * rejects with that error). The writer lock is released in every case.
 *
 * For a stage inside a pipeline (frames go on after it), use `toWritableStream`.
 *
 * @example
 * ```ts
 * import { pipe } from 'it-pipe'
 * import { Frames, pipeline, map, toWritable } from 'apipeline-ts'
 *
 * const chunks: string[] = []
 * const stream = new WritableStream<string>({ write: (chunk) => { chunks.push(chunk) } })
 * const shout = pipeline(map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f)))
 * await pipe([Frames.text('hi')], shout, toWritable(stream, { encode: (f) => (f.type === 'text' ? f.text : '') }))
 * chunks // ['HI']
 * ```
 */
export function toWritable(
  stream: WritableStream<any>,
  options: StreamSinkOptions = {},
): (source: AsyncIterable<Frame> | Iterable<Frame>) => Promise<void> {
  if (stream === null || typeof stream !== 'object' || typeof (stream as WritableStream).getWriter !== 'function') {
    throw new TypeError('toWritable(stream) needs a WHATWG WritableStream')
  }
  const parsed = parseStreamSinkOptions('toWritable', options)
  return async (source) => {
    const writer = stream.getWriter()
    const ignore = (): void => {}
    try {
      await writeFrames(
        source,
        {
          room: () => (writer.desiredSize !== null && writer.desiredSize > 0 ? undefined : writer.ready),
          // Write failures surface through `ready` and `close`.
          write: (chunk) => void writer.write(chunk).catch(ignore),
          close: () => writer.close(),
          abort: (reason) => void writer.abort(reason).catch(ignore),
        },
        parsed,
      )
    } finally {
      writer.releaseLock()
    }
  }
}
