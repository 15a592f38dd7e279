/**
 * `holdLastFrame(notifier, { hold })`: keep only the most recent selected frame until a notifier releases it.
 * @module
 */
import type { Processor } from '../../core/processor.js'
import type { Notifier } from '../../notifiers/notifier.js'
import { holdAggregator, type HoldOptions } from './hold.js'

/**
 * Like {@link holdFrames}, but only the **most recent** selected frame is kept: a newer one replaces it (the older
 * one is dropped — that is the purpose of this stage, e.g. keep the latest video frame). Each notification releases
 * the held frame, inside the stream. `start` passes once; a frame still held at `end` is emitted before it (or
 * discarded with a report: `atEnd: 'discard'`).
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass; an interruption drops a held data frame (`interruption: 'drop'`, default) | pass |
 * | control | pass (`start` once); `end` first releases (or discards) the held frame | pass |
 * | data | if selected: replaces the held frame, released on notification; else pass | pass |
 * | app | if selected: replaces the held frame; else pass | pass |
 *
 * @example
 * ```ts
 * import { EventNotifier, holdLastFrame } from 'apipeline-ts'
 *
 * const tick = new EventNotifier()
 * setInterval(() => tick.notify(), 1000) // one image per second at most
 * const latestImage = holdLastFrame(tick, { hold: ['imageRaw'] })
 * ```
 */
export function holdLastFrame(notifier: Notifier, options: HoldOptions): Processor {
  return holdAggregator(notifier, options, true, 'holdLastFrame')
}
