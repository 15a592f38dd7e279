/**
 * A wake-up signal for iterators that wait on their source and on something else at once.
 * @module
 */

/** What {@link Wake.wait} resolves with, to tell a wake-up from a source result in a race. */
export const WAKE: unique symbol = Symbol('wake')

/**
 * `wait()` returns a fresh promise that the next `notify()` resolves with {@link WAKE}; a `notify()` with nobody
 * waiting is not remembered (callers check their state before waiting). Each `wait()` makes a new promise on purpose:
 * racing a source's `next()` against one long-lived promise would leave one reaction on it per frame until it
 * settles, while a promise that lost its race is simply dropped and collected.
 */
export class Wake {
  private resolve: (() => void) | undefined

  wait(): Promise<typeof WAKE> {
    return new Promise<typeof WAKE>((resolve) => {
      this.resolve = () => resolve(WAKE)
    })
  }

  notify(): void {
    const resolve = this.resolve
    this.resolve = undefined
    resolve?.()
  }
}
