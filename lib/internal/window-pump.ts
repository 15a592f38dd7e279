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
  /**
   * Takes a frame read from the source into the window (or the stage's priority lane). `readEpoch` is the interruption
   * epoch in which the source handed the frame over: older than {@link epoch} when an interruption came while the frame
   * was on its way here (the interruption could not find it in the window, yet it belongs to the interrupted turn).
   */
  accept(frame: Frame, readEpoch: number): void
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
      hooks.accept(r.value, readEpochOf(input) ?? hooks.epoch())
      hooks.news()
    }
  } catch (err) {
    failure = { value: err }
  } finally {
    hooks.done(failure)
  }
}
