/**
 * One observer's bounded queue: a cursor over the task's event log. The pipeline never waits for it; events are
 * delivered in order on a later turn of the event loop. When the observer falls more than `capacity` events behind,
 * the oldest ones are dropped and counted; a failing observer is counted, reported once, and keeps receiving events.
 * @module
 */
import type { EventLog } from './event-log.js'
import type { ObserverEvent, ObserverStats } from './events.js'

/** Runs `fn` on a later turn of the event loop (after pending timers and I/O). */
export const later: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0)

/** Events delivered in one turn before the queue lets timers and I/O run again. */
const EVENTS_PER_TURN = 8192

/** Describes a thrown value in one line. */
function describeError(err: unknown): string {
  if (err instanceof Error) return err.message === '' ? err.name : err.message
  try {
    return String(err)
  } catch {
    return 'unknown error'
  }
}

/** The bounded delivery queue of one observer. */
export class ObserverQueue {
  private next: number
  private draining = false
  private detached = false
  private delivered = 0
  private dropped = 0
  private maxQueued = 0
  private failures = 0
  private firstError: string | undefined
  private idleWaiters: (() => void)[] = []

  constructor(
    readonly name: string,
    readonly capacity: number,
    private readonly deliver: (event: ObserverEvent) => void | PromiseLike<void>,
    /** Called with the first failure of the observer. */
    private readonly onFirstFailure: (message: string, cause: unknown) => void,
    private readonly log: EventLog,
    /** True while the log has a delivery turn scheduled. */
    private readonly pending: () => boolean,
  ) {
    this.next = log.written
  }

  /** The position of the next event this observer needs. */
  get position(): number {
    return this.detached ? Number.POSITIVE_INFINITY : this.next
  }

  /** Starts delivering what has been logged, unless a delivery is under way. */
  wake(): void {
    if (!this.draining && !this.detached && this.next < this.log.written) void this.drain()
    else this.settleIdle()
  }

  /** Stops delivery; what is still queued is discarded. */
  detach(): void {
    this.detached = true
    this.settleIdle()
  }

  /** Resolves once nothing is queued or being delivered. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  stats(): ObserverStats {
    const behind = this.detached ? 0 : this.log.written - this.next
    const overflow = Math.max(0, behind - this.capacity)
    const base = {
      name: this.name,
      delivered: this.delivered,
      dropped: this.dropped + overflow,
      queued: behind - overflow,
      maxQueued: Math.max(this.maxQueued, Math.min(behind, this.capacity)),
      failures: this.failures,
    }
    return this.firstError === undefined ? base : { ...base, firstError: this.firstError }
  }

  private isIdle(): boolean {
    return this.detached || (this.next >= this.log.written && !this.draining && !this.pending())
  }

  private async drain(): Promise<void> {
    this.draining = true
    let inTurn = 0
    while (!this.detached) {
      const written = this.log.written
      const behind = written - this.next
      if (behind <= 0) break
      if (behind > this.capacity) {
        this.dropped += behind - this.capacity
        this.next = written - this.capacity
      }
      if (behind > this.maxQueued) this.maxQueued = Math.min(behind, this.capacity)
      if (++inTurn > EVENTS_PER_TURN) {
        inTurn = 0
        await new Promise<void>((resolve) => later(resolve))
        continue
      }
      const event = this.log.read(this.next++)
      this.delivered++
      let result: void | PromiseLike<void>
      try {
        result = this.deliver(event)
      } catch (err) {
        this.fail(err)
        continue
      }
      if (result !== undefined && result !== null && typeof (result as PromiseLike<void>).then === 'function') {
        try {
          await result
        } catch (err) {
          this.fail(err)
        }
      }
    }
    this.draining = false
    this.settleIdle()
  }

  private fail(err: unknown): void {
    this.failures++
    if (this.failures > 1) return
    this.firstError = describeError(err)
    try {
      this.onFirstFailure(this.firstError, err)
    } catch {
      // Reporting must never break delivery.
    }
  }

  private settleIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }
}
