/**
 * `EventNotifier`: a broadcast notifier with a remembered, coalescing notification (the seed's asyncio.Event notifier).
 * @module
 */
import type { Notifier } from './notifier.js'

interface Waiter {
  resolve: () => void
  reject: (reason: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}

/**
 * A notifier with the seed's event semantics:
 *
 * - `notify()` wakes **every** current waiter;
 * - a `notify()` with no waiter is **remembered**: the next `wait()` resolves at once (and consumes it);
 * - several notifications before a `wait()` **coalesce** into one.
 *
 * `wait(signal)` is abortable: the waiter is removed and the promise rejects with the signal's reason. Share one
 * instance between processors (even between runs) to let one of them release another.
 *
 * @example
 * ```ts
 * import { EventNotifier, holdFrames, notifyOn, pipeline, Frames } from 'apipeline-ts'
 *
 * const notifier = new EventNotifier()
 * // Text frames are held until a `syncNotify` frame reaches the stage after the aggregator.
 * const p = pipeline(holdFrames(notifier, { hold: Frames.is('text') }), notifyOn(notifier, Frames.is('syncNotify')))
 * ```
 */
export class EventNotifier implements Notifier {
  private pending = false
  private waiters: Waiter[] = []

  /** True when a notification is remembered (no waiter has consumed it yet). */
  get isSet(): boolean {
    return this.pending
  }

  /** Number of current waiters. */
  get waiting(): number {
    return this.waiters.length
  }

  notify(): void {
    if (this.waiters.length === 0) {
      this.pending = true
      return
    }
    const woken = this.waiters
    this.waiters = []
    for (const w of woken) {
      if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort)
      w.resolve()
    }
  }

  wait(signal?: AbortSignal): Promise<void> {
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new TypeError('EventNotifier.wait(signal): signal must be an AbortSignal'))
    }
    if (signal?.aborted === true) return Promise.reject(abortReason(signal))
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.waiters = this.waiters.filter((w) => w !== waiter)
          reject(abortReason(signal))
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.waiters.push(waiter)
    })
  }

  /** Forgets a remembered notification. */
  clear(): void {
    this.pending = false
  }
}
