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
