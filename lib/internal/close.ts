/**
 * Closing iterators during teardown.
 * @module
 */

/**
 * Calls `iterator.return()` on a later microtask and resolves once it settled, whatever happened: teardown never
 * throws, never rejects unhandled, and does not wait on an iterator that is busy unless the caller awaits the result.
 */
export function closeQuietly(iterator: { return?: (() => unknown) | undefined } | undefined): Promise<void> {
  if (iterator === undefined || typeof iterator.return !== 'function') return Promise.resolve()
  return Promise.resolve()
    .then(() => iterator.return?.())
    .then(
      () => undefined,
      () => undefined,
    )
}

/**
 * Resolves once `work` has settled or `ms` milliseconds have passed, whichever comes first (never rejects); the timer
 * is cleared as soon as `work` settles, so nothing is left behind. Teardown waits through it so that a processor that
 * never returns (parked on a promise that never settles) cannot hold its closer forever.
 */
export function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    work.then(
      () => {
        clearTimeout(timer)
        resolve()
      },
      () => {
        clearTimeout(timer)
        resolve()
      },
    )
  })
}
