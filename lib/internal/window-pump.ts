/**
 * The reading side of a stage that keeps an ordered window of work (`mapConcurrent`, worker-thread stages): read the
 * source while the window has room, hand each frame to the stage, tell the consumer, and report how reading ended.
 * @module
 */
import type { Frame } from '../frames/types.js'
import type { Wake } from './wake.js'

/** What {@link pumpWindow} asks of its stage. */
export interface WindowPumpHooks {
  /** True while the window can take another frame. */
  hasRoom(): boolean
  /** True once the stage stopped reading (cancelled, closed). */
  stopped(): boolean
  /** Notified by the stage whenever the window gains room or the stage stops. */
  readonly room: Wake
  /** Takes a frame read from the source into the window (or the stage's priority lane). */
  accept(frame: Frame): void
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
      hooks.accept(r.value)
      hooks.news()
    }
  } catch (err) {
    failure = { value: err }
  } finally {
    hooks.done(failure)
  }
}
