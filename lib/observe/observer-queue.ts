/**
 * One observer's bounded queue: events are queued by the pipeline without waiting and delivered in order on a later
 * turn of the event loop. A full queue drops the new event and counts it; a failing observer is counted, reported
 * once, and keeps receiving events.
 * @module
 */
import type { ObserverEvent, ObserverStats } from './events.js'

/** Resolves on a later turn of the event loop (after pending timers and I/O). */
const later: (fn: () => void) => void =
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
  private items: (ObserverEvent | undefined)[] = new Array<ObserverEvent | undefined>(64)
  private head = 0
  private size = 0
  private scheduled = false
  private draining = false
  private detached = false
  private delivered = 0
  private dropped = 0
  private maxQueued = 0
  private failures = 0
  private firstError: string | undefined
  private idleWaiters: (() => void)[] = []
  private readonly drainLater = (): void => {
    this.scheduled = false
    void this.drain()
  }

  constructor(
    readonly name: string,
    private readonly capacity: number,
    private readonly deliver: (event: ObserverEvent) => void | PromiseLike<void>,
    /** Called with the first failure of the observer. */
    private readonly onFirstFailure: (message: string, cause: unknown) => void,
  ) {}

  /** Queues `event` (or drops it when the queue is full). Never throws, never waits. */
  offer(event: ObserverEvent): void {
    if (this.detached) return
    if (this.size >= this.capacity) {
      this.dropped++
      return
    }
    if (this.size === this.items.length) this.grow()
    this.items[(this.head + this.size) % this.items.length] = event
    this.size++
    if (this.size > this.maxQueued) this.maxQueued = this.size
    if (!this.scheduled && !this.draining) {
      this.scheduled = true
      later(this.drainLater)
    }
  }

  /** Stops delivery; queued events are discarded. */
  detach(): void {
    this.detached = true
    this.items = []
    this.head = 0
    this.size = 0
    this.settleIdle()
  }

  /** Resolves once nothing is queued or being delivered. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  stats(): ObserverStats {
    const base = {
      name: this.name,
      delivered: this.delivered,
      dropped: this.dropped,
      queued: this.size,
      maxQueued: this.maxQueued,
      failures: this.failures,
    }
    return this.firstError === undefined ? base : { ...base, firstError: this.firstError }
  }

  private isIdle(): boolean {
    return this.detached || (this.size === 0 && !this.draining && !this.scheduled)
  }

  private grow(): void {
    const next = new Array<ObserverEvent | undefined>(Math.min(this.capacity, this.items.length * 2))
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) % this.items.length]
    this.items = next
    this.head = 0
  }

  private take(): ObserverEvent {
    const event = this.items[this.head] as ObserverEvent
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.size--
    return event
  }

  private async drain(): Promise<void> {
    this.draining = true
    let inTurn = 0
    while (this.size > 0 && !this.detached) {
      if (++inTurn > EVENTS_PER_TURN) {
        inTurn = 0
        await new Promise<void>((resolve) => later(resolve))
        continue
      }
      const event = this.take()
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
