/**
 * `notifyOn(notifier, predicate)`: a stage that fires a notifier when a matching frame passes.
 * @module
 */
import type { Processor } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { reportError, twoWayStep, type Direction } from '../operators/two-way.js'
import { assertNotifier, type Notifier } from './notifier.js'

/** Options of {@link notifyOn}. */
export interface NotifyOnOptions {
  /** Drop the matching frames after notifying instead of forwarding them. Default false. */
  readonly consume?: boolean
  /** Display name. Default `'notifyOn'`. */
  readonly name?: string
}

/**
 * Calls `notifier.notify()` for every frame for which `predicate(frame, direction)` is true, and forwards every frame
 * (unless `consume`, which drops the matching ones). Place it after a hold aggregator to release held frames when,
 * say, a `syncNotify` frame arrives. Fused with neighbouring per-frame stages.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | notify if matching; forwarded | notify if matching; forwarded |
 * | control | notify if matching; forwarded (dropped when matching and `consume`) | same |
 * | data | notify if matching; forwarded (dropped when matching and `consume`) | same |
 * | app | notify if matching; forwarded (dropped when matching and `consume`) | same |
 *
 * System frames and `start`/`end` are always forwarded, even with `consume`.
 *
 * @example
 * ```ts
 * import { EventNotifier, notifyOn, Frames } from 'apipeline-ts'
 *
 * const notifier = new EventNotifier()
 * const onSyncNotify = notifyOn(notifier, Frames.is('syncNotify'))
 * ```
 */
export function notifyOn(
  notifier: Notifier,
  predicate: (frame: Frame, direction: Direction) => boolean,
  options: NotifyOnOptions = {},
): Processor {
  assertNotifier('notifyOn(notifier)', notifier)
  if (typeof predicate !== 'function') throw new TypeError('notifyOn(predicate): predicate must be a function')
  if (options === null || typeof options !== 'object') throw new TypeError('notifyOn(options) must be an object')
  const consume = options.consume ?? false
  return twoWayStep(options.name ?? 'notifyOn', (frame, emit, direction, ctx) => {
    let matched = false
    try {
      matched = predicate(frame, direction) === true
      if (matched) notifier.notify()
    } catch (err) {
      // A failing predicate or notifier never costs the frame.
      reportError(ctx, err)
      emit(frame)
      return
    }
    if (!matched || !consume || frame.kind === 'system' || (frame.kind === 'control' && (frame.type === 'start' || frame.type === 'end'))) {
      emit(frame)
    }
  })
}
