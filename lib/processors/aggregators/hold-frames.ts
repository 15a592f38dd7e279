/**
 * `holdFrames(notifier, { hold })`: hold selected frames until a notifier releases them all.
 * @module
 */
import type { Processor } from '../../core/processor.js'
import type { Notifier } from '../../notifiers/notifier.js'
import { holdAggregator, type HoldOptions } from './hold.js'

/**
 * Holds the downstream data/app frames selected by `hold` and releases all of them, in arrival order, each time
 * `notifier` fires; other frames pass at once. The release happens inside the stream (the stage waits for its next
 * input and for the notifier at the same time), so released frames are ordered with everything else it emits.
 * Fixes the Python `HoldFramesAggregator`: `start` passes once, held frames are not dropped at `end` (flushed before
 * it, or discarded with a report: `atEnd`), nothing keeps running after the stage ends. A notification while nothing
 * is held is consumed (it does not release the next frame early).
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass; an interruption drops held data frames (`interruption: 'drop'`, default) | pass |
 * | control | pass (`start` once); `end` first releases (or discards) the held frames | pass |
 * | data | held if selected (released on notification), else pass | pass |
 * | app | held if selected, else pass | pass |
 *
 * @example
 * ```ts
 * import { EventNotifier, holdFrames, notifyOn, pipeline, Frames } from 'apipeline-ts'
 *
 * const notifier = new EventNotifier()
 * const p = pipeline(
 *   holdFrames(notifier, { hold: ['text'] }),
 *   notifyOn(notifier, Frames.is('syncNotify')), // a `syncNotify` frame releases the held text
 * )
 * ```
 */
export function holdFrames(notifier: Notifier, options: HoldOptions): Processor {
  return holdAggregator(notifier, options, false, 'holdFrames')
}
