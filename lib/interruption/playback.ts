/**
 * `playback(options)`: an output stage for a player that reports when it has actually played a frame (an audio
 * device, a browser `AudioContext`, a telephony stream that sends marks back), so that an interruption reports what
 * the user really heard.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor } from '../core/processor.js'
import { isAbortLike, isFatal } from '../errors.js'
import type { Frame } from '../frames/types.js'
import { reportError } from '../operators/two-way.js'
import { isSelected, parseSinkOptions, type SinkOptions } from '../adapters/sink-options.js'
import { deliveryMarker, type DeliveryMarker } from './delivery.js'

/** Options of {@link playback}. */
export interface PlaybackOptions extends SinkOptions {
  /**
   * Hands a frame to the player. Return a promise to hold the pipeline back until the player has room (backpressure);
   * report the frame played later with `played(frame)`.
   */
  readonly play: (frame: Frame, info: { readonly signal: AbortSignal }) => void | Promise<unknown>
  /** Called on every interruption: drop what the player still holds (e.g. Twilio `clear`, an audio queue reset). */
  readonly flush?: () => void
}

/** A playback sink and the function the player calls once a frame has been heard. */
export interface Playback {
  /** The output stage (place it last). */
  readonly sink: Processor
  /** The player has played `frame` (or the frame with this id): it counts as delivered. */
  played(frame: Frame | number): void
  /** Frames handed to the player and not yet reported played. */
  readonly pending: number
}

/**
 * An output stage for a player that reports playback. Selected frames (default: data frames) are handed to
 * `options.play` and count as *accepted*; once the player calls `played(frame)` they count as *delivered*. On an
 * interruption `options.flush` is called and the frames not yet played count as dropped in the interruption report.
 * Frames are consumed unless `forward: true`; other frames pass in order.
 *
 * @example
 * ```ts
 * import { playback, pipeline, PipelineTask, type Frame } from 'apipeline-ts'
 *
 * declare const audioQueue: { enqueue(frame: Frame, onPlayed: () => void): void; clear(): void }
 * const speaker = playback({
 *   play: (frame) => audioQueue.enqueue(frame, () => speaker.played(frame)), // the player calls back once played
 *   flush: () => audioQueue.clear(),
 * })
 * const task = new PipelineTask(pipeline(llm, tts, speaker.sink), { allowInterruptions: true })
 * ```
 */
export function playback(options: PlaybackOptions): Playback {
  if (options === null || typeof options !== 'object' || typeof options.play !== 'function') {
    throw new TypeError('playback(options) needs a play function')
  }
  if (options.flush !== undefined && typeof options.flush !== 'function') throw new TypeError('playback: flush must be a function')
  const { select, forward } = parseSinkOptions('playback', options)
  const name = options.name ?? 'playback'
  const { play, flush } = options
  /** Frames handed to the player in the current run, by id (cleared on interruptions). */
  const waiting = new Map<number, Frame>()
  let marks: DeliveryMarker | undefined

  const sink = (source: AsyncIterable<Frame>, context?: ProcessorContext): AsyncIterable<Frame> => {
    const ctx = asContext(context, name)
    return (async function* playbackGen() {
      const current = deliveryMarker(ctx, source)
      marks = current
      const offInterrupt = ctx.runtime.onInterrupt(() => {
        waiting.clear()
        if (flush === undefined) return
        try {
          flush()
        } catch (err) {
          reportError(ctx, err)
        }
      })
      try {
        for await (const frame of source) {
          if (!isSelected(select, frame, ctx)) {
            yield frame
            continue
          }
          if (!current.accept(frame)) continue // stale: read before an interruption that came since
          waiting.set(frame.id, frame)
          try {
            const room = play(frame, { signal: ctx.signal })
            if (room !== null && typeof room === 'object' && typeof (room as PromiseLike<unknown>).then === 'function') await room
          } catch (err) {
            if (isFatal(err) || isAbortLike(err)) throw err
            waiting.delete(frame.id)
            reportError(ctx, err)
          }
          if (forward) yield frame
        }
      } finally {
        offInterrupt()
        current.release()
        if (marks === current) marks = undefined
        waiting.clear()
      }
    })()
  }

  return {
    sink: withInfo(sink, { name }),
    played(frame) {
      const id = typeof frame === 'number' ? frame : frame?.id
      if (typeof id !== 'number') throw new TypeError('playback.played(frame) needs a frame or a frame id')
      const f = waiting.get(id)
      if (f === undefined) return
      waiting.delete(id)
      marks?.delivered(f)
    },
    get pending() {
      return waiting.size
    },
  }
}
