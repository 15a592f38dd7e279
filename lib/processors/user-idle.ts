/**
 * `userIdle(options)`: calls a callback when the user has been idle — no user activity for a while, and the user is
 * not speaking.
 *
 * Every frame is forwarded at once, unchanged and in order. The timer:
 *
 * | event | effect |
 * |---|---|
 * | `start` passes | the timer is armed |
 * | `startInterruption` / `interruption` (the user started speaking) | the timer is paused: it never fires while the user is speaking |
 * | `stopInterruption` (the user stopped speaking) | the timer is re-armed |
 * | a frame matching `types` passes (default: every data, control and app frame) | the timer is re-armed (unless paused) |
 * | other system frames | no effect |
 * | (`measureFrom: 'delivery'`) a sink delivers bot output | the timer is re-armed (unless paused) |
 * | the timer expires | `onIdle(ctx)` is called; frames it returns are emitted downstream; re-armed once it has settled |
 * | `end`, `cancel`, `stopTask`, a cancelled run, teardown | the timer is cleared (as for {@link idle}) |
 *
 * Unlike the Python 0.2.12 `UserIdleProcessor`, which fired every `timeout` whatever arrived, any user activity
 * resets the timer.
 * @module
 */
import type { Processor } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { ledgerOf } from '../interruption/ledger.js'
import { checkIdleOptions, idleWatcher, type IdleCallback, type IdleEvent } from './idle.js'

/** Options of {@link userIdle}. */
export interface UserIdleOptions {
  /** Milliseconds of user inactivity before `onIdle` is called; a finite number > 0. */
  readonly timeoutMs: number
  /** Called on every expiry. */
  readonly onIdle: IdleCallback
  /** Frames that count as user activity: frame `type`s or a predicate. Default: every data, control and app frame. */
  readonly types?: readonly string[] | ((frame: Frame) => boolean)
  /** Display name. Default `userIdle`. */
  readonly name?: string
  /**
   * Where the silence is measured from. `'input'` (default): the last user activity passing this stage.
   * `'delivery'`: also the last bot output a sink *delivered* (the task's reader took it, a callback acknowledged it,
   * a player reported it played — see the README section "Interruptions"), so a long answer still playing, or audio
   * still queued in a player, does not count as the user's silence. Deliveries are recorded when the run allows
   * interruptions.
   */
  readonly measureFrom?: 'input' | 'delivery'
}

/**
 * A processor that calls `onIdle(ctx)` when no user activity has passed for `timeoutMs` and the user is not speaking
 * (between `startInterruption` and `stopInterruption` it never fires). See the module documentation.
 *
 * @example
 * ```ts
 * import { userIdle, pipeline, Frames } from 'apipeline-ts'
 *
 * const nudge = userIdle({ timeoutMs: 8000, onIdle: () => Frames.text('Are you still there?') })
 * const bot = pipeline(vad, stt, nudge, llm, tts)
 * ```
 */
export function userIdle(options: UserIdleOptions): Processor {
  const { timeoutMs, onIdle, matches, name } = checkIdleOptions('userIdle(options)', options)
  const isActivity = matches ?? ((frame: Frame): boolean => frame.kind !== 'system')
  const classify = (frame: Frame): IdleEvent => {
    if (frame.kind === 'system') {
      if (frame.type === 'startInterruption' || frame.type === 'interruption') return 'pause'
      if (frame.type === 'stopInterruption') return 'resume'
    }
    return isActivity(frame) ? 'activity' : 'none'
  }
  const measureFrom = options.measureFrom ?? 'input'
  if (measureFrom !== 'input' && measureFrom !== 'delivery') throw new TypeError("userIdle(options): measureFrom must be 'input' or 'delivery'")
  if (measureFrom === 'input') return idleWatcher(name ?? 'userIdle', timeoutMs, onIdle, classify)
  return idleWatcher(name ?? 'userIdle', timeoutMs, onIdle, classify, (ctx, poke) => ledgerOf(ctx.runtime).onDelivered(poke))
}
