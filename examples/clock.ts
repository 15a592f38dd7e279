/**
 * Time helpers shared by the examples: a log stamp and an abortable wait.
 */

const t0 = performance.now()

/** Milliseconds since the program started, padded for log columns. */
export const stamp = (): string => `${String(Math.round(performance.now() - t0)).padStart(5)} ms`

/**
 * Waits `ms`, or rejects with the signal's reason when it aborts (an interruption or a cancel); leaves no timer or
 * listener behind either way.
 */
export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
