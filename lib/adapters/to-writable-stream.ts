/**
 * `toWritableStream(stream)`: write frames to a WHATWG `WritableStream`, with its backpressure.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor } from '../core/processor.js'
import { errorMessage } from '../core/stage.js'
import { FatalError } from '../errors.js'
import type { Frame } from '../frames/types.js'
import { reportError } from '../operators/two-way.js'
import { isSelected, parseSinkOptions, type SinkOptions } from './sink-options.js'
import { deliveryMarker } from '../interruption/delivery.js'

/** Options of {@link toWritableStream}. */
export interface ToWritableStreamOptions extends SinkOptions {
  /** Turns a frame into the chunk to write (e.g. `(f) => f.audio`). Default: the frame itself. */
  readonly encode?: (frame: Frame) => unknown
  /** Close the stream when `end` arrives (before `end` is forwarded). Default true. */
  readonly close?: boolean
}

/** Waits for `promise`, or rejects with the signal's reason when `signal` aborts first; leaves no listener behind. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/**
 * An output stage (place it last) that writes the selected frames (default: data frames), encoded by `encode`, to
 * `stream`. Before each write it waits for `writer.ready`, so a slow stream slows the pipeline (backpressure through
 * the stream's `highWaterMark`). At `end` the stream is closed (all writes flushed) before `end` is forwarded; on
 * cancel or early teardown it is aborted; the writer lock is always released. A stream that fails ends the task
 * (`'errored'`: the output is gone). Delivered frames are consumed unless `forward: true`.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass (written if `select` picks it) | pass, not written |
 * | control | pass; `end` closes the stream first (`close: true`) | pass, not written |
 * | data | written (after `ready`), consumed (`forward: true`: then forwarded) | pass, not written |
 * | app | pass (written if `select` picks it) | pass, not written |
 *
 * @example
 * ```ts
 * import { toWritableStream, pipeline, run } from 'apipeline-ts'
 *
 * const { readable, writable } = new TransformStream()
 * const out = toWritableStream(writable, { encode: (f) => (f.type === 'text' ? f.text : '') })
 * for await (const _ of run(pipeline(bot, out), input)) {}
 * ```
 */
export function toWritableStream(stream: WritableStream<any>, options: ToWritableStreamOptions = {}): Processor {
  if (stream === null || typeof stream !== 'object' || typeof (stream as WritableStream).getWriter !== 'function') {
    throw new TypeError('toWritableStream(stream) needs a WHATWG WritableStream')
  }
  const { select, forward } = parseSinkOptions('toWritableStream', options)
  const encode = options.encode
  if (encode !== undefined && typeof encode !== 'function') throw new TypeError('toWritableStream: encode must be a function')
  const closeAtEnd = options.close ?? true
  if (typeof closeAtEnd !== 'boolean') throw new TypeError('toWritableStream: close must be a boolean')
  const name = options.name ?? 'toWritableStream'
  const failed = (err: unknown): FatalError =>
    new FatalError(`${name}: the stream failed: ${errorMessage(err)}`, { cause: err })

  const sink = (source: AsyncIterable<Frame>, context?: ProcessorContext): AsyncIterable<Frame> => {
    const ctx = asContext(context, name)
    return (async function* toWritableStreamGen() {
      const writer = stream.getWriter()
      // Delivery marks: a frame counts as delivered once its write resolved (see `deliveryMarker`).
      const marks = deliveryMarker(ctx, source)
      let settled = false
      // Write results are observed through `ready`/`close`; a failed write must not become an unhandled rejection.
      const ignore = (): void => {}
      try {
        for await (const frame of source) {
          if (frame.kind === 'control' && frame.type === 'end') {
            if (closeAtEnd) {
              try {
                await untilAborted(writer.close(), ctx.cancelSignal)
              } catch (err) {
                if (ctx.cancelSignal.aborted) throw err
                settled = true
                throw failed(err)
              }
            }
            settled = true
            yield frame
            continue
          }
          if (!isSelected(select, frame, ctx)) {
            yield frame
            continue
          }
          let chunk: unknown = frame
          if (encode !== undefined) {
            try {
              chunk = encode(frame)
            } catch (err) {
              reportError(ctx, err)
              continue
            }
          }
          try {
            await untilAborted(writer.ready, ctx.cancelSignal)
          } catch (err) {
            if (ctx.cancelSignal.aborted) throw err
            throw failed(err)
          }
          if (!marks.accept(frame)) continue // stale: read before an interruption that came since
          writer.write(chunk).then(() => marks.delivered(frame), ignore)
          if (forward) yield frame
        }
      } finally {
        if (!settled) writer.abort(ctx.cancelSignal.reason ?? new Error(`${name}: the pipeline stopped before end`)).catch(ignore)
        writer.releaseLock()
        marks.release()
      }
    })()
  }
  return withInfo(sink, { name })
}
