/**
 * Option checks shared by `remote` and `serve`.
 * @module
 */

/** `value`, or `fallback` when undefined; a `TypeError` naming `where` unless it is an integer >= `min`. */
export function intOption(where: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${where} must be an integer >= ${min}, got ${typeof value === 'number' ? value : typeof value}`)
  }
  return value
}

/** A `TypeError` unless `value` is a valid NATS subject without wildcards. */
export function subjectOption(where: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || /[\s*>]/.test(value) || value.startsWith('.') || value.endsWith('.') || value.includes('..')) {
    throw new TypeError(`${where} must be a NATS subject without wildcards, e.g. "bot" or "voice.tts", got ${JSON.stringify(value)}`)
  }
  return value
}

/** A `TypeError` unless `value` is undefined or a function. */
export function functionOption<F>(where: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${where} must be a function`)
  return value
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
