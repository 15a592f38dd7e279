/**
 * The reading side of a stage that keeps an ordered window of work (`mapConcurrent`, worker-thread stages): read the
 * source while the window has room, hand each frame to the stage with the interruption epoch it was read in, tell the
 * consumer, and report how reading ended.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { readEpochOf } from '../interruption/read-epoch.js'
import type { Wake } from './wake.js'

/** What {@link pumpWindow} asks of its stage. */
export interface WindowPumpHooks {
  /** True while the window can take another frame. */
  hasRoom(): boolean
  /** True once the stage stopped reading (cancelled, closed). */
  stopped(): boolean
  /** Notified by the stage whenever the window gains room or the stage stops. */
  readonly room: Wake
  /** The run's interruption epoch now: the read epoch of a frame from a source that does not record one. */
  epoch(): number
  /** The interruption epoch of the stage's window now: work read in an older epoch belongs to an interrupted turn. */
  windowEpoch(): number
  /** True for a frame the stage works on (the others pass through the window in order). */
  matches(frame: Frame): boolean
  /** Takes a system frame into the stage's priority lane (ahead of the window). */
  priority(frame: Frame): void
  /** Takes a frame the stage works on into the window. */
  work(frame: Frame): void
  /** Takes a frame that passes through the window unchanged. */
  pass(frame: Frame): void
  /**
   * Drops a data frame or a frame to work on that the source handed over in `readEpoch`, before an interruption that
   * came while it was on its way here: the interruption could not find it in the window, yet it belongs to the
   * interrupted turn, so it is counted against that turn, never worked on.
   */
  stale(frame: Frame, readEpoch: number): void
  /** Tells the consumer there is news. */
  news(): void
  /** Called once when reading ended: with the source's failure, if it threw. */
  done(failure: { readonly value: unknown } | undefined): void
}

/** Reads `input` into the stage's window until the source ends, fails or the stage stops; never rejects. */
export async function pumpWindow(input: AsyncIterator<Frame>, hooks: WindowPumpHooks): Promise<void> {
  let failure: { readonly value: unknown } | undefined
  try {
    for (;;) {
      while (!hooks.hasRoom() && !hooks.stopped()) await hooks.room.wait()
      if (hooks.stopped()) return
      const r = await input.next()
      if (r.done === true || hooks.stopped()) return
      // The epoch the source recorded at the hand-over, not the one of now: the pump resumes on a later job.
      sort(r.value, readEpochOf(input) ?? hooks.epoch(), hooks)
      hooks.news()
    }
  } catch (err) {
    failure = { value: err }
  } finally {
    hooks.done(failure)
  }
}

/** Sends a frame read in `readEpoch` to the stage's priority lane, its window, or its stale count. */
function sort(frame: Frame, readEpoch: number, hooks: WindowPumpHooks): void {
  if (frame.kind === 'system') {
    hooks.priority(frame)
    return
  }
  const matched = hooks.matches(frame)
  if (readEpoch !== hooks.windowEpoch() && (matched || frame.kind === 'data')) hooks.stale(frame, readEpoch)
  else if (matched) hooks.work(frame)
  else hooks.pass(frame)
}
