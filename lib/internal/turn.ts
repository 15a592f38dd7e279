/**
 * Yielding to the event loop: code that may otherwise run in microtasks only (frames that are always ready, a
 * processor that misbehaves in a loop) lets timers and I/O run through these, so a cancel deadline can always fire.
 * @module
 */

type Immediate = (callback: () => void) => unknown
const immediate: Immediate | undefined = (globalThis as { setImmediate?: Immediate }).setImmediate

/** Calls `callback` on a later turn of the event loop, after pending timers and I/O had a chance to run. */
export const onNextTurn: (callback: () => void) => void =
  typeof immediate === 'function' ? (callback) => void immediate(callback) : (callback) => void setTimeout(callback, 0)

/** Resolves on a later turn of the event loop, after pending timers and I/O had a chance to run. */
export const macrotask = (): Promise<void> => new Promise<void>((resolve) => onNextTurn(resolve))
