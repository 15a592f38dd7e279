/**
 * `toCallback(cb)`: deliver frames to a callback, one at a time, each acknowledged before the next.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor } from '../core/processor.js'
import { isAbortLike, isFatal } from '../errors.js'
import type { Frame } from '../frames/types.js'
import { reportError } from '../operators/two-way.js'
import { isSelected, parseSinkOptions, type SinkOptions } from './sink-options.js'
import { deliveryMarker } from '../interruption/delivery.js'

/** What the callback receives besides the frame. */
export interface DeliveryInfo {
  /** The stage's `ctx.signal`: aborts on cancel and on interruptions. Pass it to slow work. */
  readonly signal: AbortSignal
  /** The stage's context. */
  readonly ctx: ProcessorContext
}

/** The callback of {@link toCallback}: a returned promise is the acknowledgement. */
export type FrameCallback = (frame: Frame, info: DeliveryInfo) => void | Promise<unknown>

/**
 * An output stage (place it last) that delivers the selected frames (default: data frames) to `cb`, one at a time:
 * when `cb` returns a promise, the next frame is not delivered — and, by backpressure, the pipeline does not run
 * ahead — until it settles (per-frame acknowledgement, the seed's `OutputFrameProcessor` without its polling and its
 * manual `set_sink_event`). Delivered frames are consumed unless `forward: true`; other frames pass in order, after
 * the deliveries before them. A callback that throws or rejects is reported as an `error` frame (the frame counts as
 * delivered); a `FatalError` ends the task; an abort caused by an interruption restarts the stage quietly.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass (delivered first if `select` picks it) | pass, not delivered |
 * | control | pass, after earlier deliveries were acknowledged | pass, not delivered |
 * | data | delivered, acknowledged, consumed (`forward: true`: then forwarded) | pass, not delivered |
 * | app | pass (delivered if `select` picks it) | pass, not delivered |
 *
 * @example
 * ```ts
 * import { toCallback, pipeline, run } from 'apipeline-ts'
 *
 * const speaker = toCallback(async (frame, { signal }) => {
 *   if (frame.type === 'audioRaw') await device.play(frame.audio, { signal }) // next frame waits for this
 * })
 * for await (const _ of run(pipeline(tts, speaker), input)) {}
 * ```
 */
export function toCallback(cb: FrameCallback, options: SinkOptions = {}): Processor {
  if (typeof cb !== 'function') throw new TypeError('toCallback(cb): cb must be a function')
  const { select, forward } = parseSinkOptions('toCallback', options)
  const name = options.name ?? 'toCallback'
  const sink = (source: AsyncIterable<Frame>, context?: ProcessorContext): AsyncIterable<Frame> => {
    const ctx = asContext(context, name)
    return (async function* toCallbackGen() {
      // Delivery marks: a frame counts as delivered once the callback acknowledged it (see `deliveryMarker`).
      const marks = deliveryMarker(ctx, source)
      try {
        for await (const frame of source) {
          if (!isSelected(select, frame, ctx)) {
            yield frame
            continue
          }
          if (!marks.accept(frame)) continue // stale: read before an interruption that came since
          try {
            const ack = cb(frame, { signal: ctx.signal, ctx })
            if (ack !== null && typeof ack === 'object' && typeof (ack as PromiseLike<unknown>).then === 'function') await ack
            marks.delivered(frame)
          } catch (err) {
            if (isFatal(err) || isAbortLike(err)) throw err
            reportError(ctx, err)
          }
          if (forward) yield frame
        }
      } finally {
        marks.release()
      }
    })()
  }
  return withInfo(sink, { name })
}
