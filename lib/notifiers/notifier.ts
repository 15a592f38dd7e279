/**
 * The notifier contract: something one processor (or any code) signals and another waits for.
 * @module
 */

/**
 * A notifier: `notify()` wakes waiters, `wait(signal)` resolves on the next notification. Hold aggregators release
 * their held frames on each notification; any object with these two methods can drive them.
 *
 * @example
 * ```ts
 * import { EventNotifier, type Notifier } from 'apipeline-ts'
 *
 * const gate: Notifier = new EventNotifier()
 * setTimeout(() => gate.notify(), 10)
 * await gate.wait()
 * ```
 */
export interface Notifier {
  /** Signals the notification. Never throws, never blocks. */
  notify(): void
  /**
   * Resolves on the next notification. When `signal` aborts first, rejects with its reason and forgets this waiter
   * (no listener or promise is left behind).
   */
  wait(signal?: AbortSignal): Promise<void>
}

/** Throws a `TypeError` unless `value` has `notify()` and `wait()` methods. @internal */
export function assertNotifier(where: string, value: unknown): asserts value is Notifier {
  const v = value as Partial<Notifier> | null | undefined
  if (v === null || typeof v !== 'object' || typeof v.notify !== 'function' || typeof v.wait !== 'function') {
    throw new TypeError(`${where} must be a notifier (an object with notify() and wait(signal?) methods)`)
  }
}
