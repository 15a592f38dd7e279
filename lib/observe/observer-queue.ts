/**
 * One observer's bounded queue: a cursor over the task's event log. The pipeline never waits for it; events are
 * delivered in order on a later turn of the event loop, in batches. When the observer falls more than `capacity`
 * events behind, the oldest ones are dropped and counted; a failing observer is counted, reported once, and keeps
 * receiving events. Events the observer does not select are skipped on the log's columns, without making an event.
 * While every observer of the task is full the task records nothing and counts, per observer, the events it selects
 * ({@link ObserverQueue.skip}); each step of delivery tells the task how far recording may go again.
 * @module
 */
import { LIFECYCLE, type EventLog } from './event-log.js'
import { LogBatch } from './event-batch.js'
import { selectsProcessor, type EventFilter } from './event-filter.js'
import type { EventBatch, ObserverEvent, ObserverStats } from './events.js'
import type { Frame } from '../frames/types.js'

/** How an observer takes its events: one by one, or in batches. */
export type Delivery =
  | { readonly one: (event: ObserverEvent) => void | PromiseLike<void>; readonly batch?: undefined }
  | { readonly one?: undefined; readonly batch: (batch: EventBatch) => void | PromiseLike<void> }

/** Runs `fn` on a later turn of the event loop (after pending timers and I/O). */
export const later: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0)

/** Events looked at in one turn before the queue lets timers and I/O run again. */
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

const isThenable = (value: unknown): value is PromiseLike<void> =>
  value !== undefined && value !== null && typeof (value as PromiseLike<void>).then === 'function'

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
  /** Whether the observer selects each processor it has met (only with a `processors` selection). */
  private readonly selected = new Map<string, boolean>()
  private batch: LogBatch | undefined
  /** Counts the changes of selection: an event being delivered one by one re-reads the selection after a change. */
  private selections = 0
  /**
   * The log position from which the task records nothing this observer does not select (every other observer selects
   * the same), so its events from there on need no check; infinity when that is not so. Kept by the hub.
   */
  onlySelectedFrom = Number.POSITIVE_INFINITY

  constructor(
    readonly name: string,
    readonly capacity: number,
    private readonly delivery: Delivery,
    /** Called with the first failure of the observer. */
    private readonly onFirstFailure: (message: string, cause: unknown) => void,
    private readonly log: EventLog,
    /** True while the log has a delivery turn scheduled. */
    private readonly pending: () => boolean,
    /** What the observer selects; undefined: everything. */
    private selection: EventFilter | undefined,
    /** `"<task>/"`: processor names start with it. */
    private readonly prefix: string,
    /** Called when the queue has taken events: the log position up to which it has room again ({@link ObserverQueue.until}). */
    private readonly advanced: (until: number) => void = () => undefined,
  ) {
    this.next = log.written
  }

  /** What the observer selects; undefined: everything. */
  get filter(): EventFilter | undefined {
    return this.selection
  }

  /** Replaces what the observer selects (the task then recomputes what it records). */
  reselect(filter: EventFilter | undefined): void {
    this.selection = filter
    this.selected.clear()
    this.selections++
  }

  /** The position of the next event this observer needs. */
  get position(): number {
    return this.detached ? Number.POSITIVE_INFINITY : this.next
  }

  /** The log position at which this observer's queue is full: an event written there would push out one it still needs. */
  get until(): number {
    return this.detached ? Number.NEGATIVE_INFINITY : this.next + this.capacity
  }

  /**
   * Counts as dropped a frame event the task did not record because every observer was full, when this observer
   * selects it (`code` its event code, `processor` the processor it left).
   */
  skip(code: number, processor: string, frame: Frame): void {
    const filter = this.filter
    if (filter === undefined || this.onlySelectedFrom !== Number.POSITIVE_INFINITY || this.selectsEvent(code, processor, frame, filter)) this.dropped++
  }

  /** {@link ObserverQueue.skip} for the frames that left the steps `from` to `count - 1` of a fused run (downstream). */
  skipSteps(frames: readonly Frame[], names: readonly string[], from: number, count: number, code: number): void {
    const filter = this.filter
    if (filter === undefined || this.onlySelectedFrom !== Number.POSITIVE_INFINITY) {
      this.dropped += count - from
      return
    }
    for (let j = from; j < count; j++) if (this.selectsEvent(code, names[j] as string, frames[j] as Frame, filter)) this.dropped++
  }

  /** Counts as dropped `count` frame events the observer selects, not recorded because every observer was full. */
  dropSteps(count: number): void {
    this.dropped += count
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
    const written = this.log.written
    const behind = this.detached ? 0 : written - this.next
    const overflow = Math.max(0, behind - this.capacity)
    const base = {
      name: this.name,
      delivered: this.delivered,
      dropped: this.dropped + this.countSelected(this.next, this.next + overflow),
      queued: this.countSelected(this.next + overflow, this.next + behind),
      maxQueued: Math.max(this.maxQueued, Math.min(behind, this.capacity)),
      failures: this.failures,
    }
    return this.firstError === undefined ? base : { ...base, firstError: this.firstError }
  }

  private isIdle(): boolean {
    return this.detached || (this.next >= this.log.written && !this.draining && !this.pending())
  }

  /**
   * How many of the events at log positions `from` to `to - 1` the observer selects. An event the ring has already
   * overwritten (more than its capacity behind the newest) can no longer be checked and counts as selected.
   */
  private countSelected(from: number, to: number): number {
    const filter = this.filter
    if (filter === undefined || to <= from) return Math.max(0, to - from)
    const only = this.onlySelectedFrom
    const end = Math.min(to, only)
    let count = Math.max(0, to - Math.max(from, only))
    const readable = Math.max(from, this.log.written - this.log.capacity)
    count += Math.max(0, Math.min(end, readable) - from)
    for (let n = readable; n < end; n++) if (this.selects(n, filter)) count++
    return count
  }

  /** True when the observer selects the event at position `n` of the log. */
  private selects(n: number, filter: EventFilter): boolean {
    const log = this.log
    const code = log.codeAt(n)
    if (code === LIFECYCLE) return true
    if (filter.codes[code] !== 1) return false
    if (filter.kinds !== undefined && !filter.kinds.has(log.frameAt(n).kind)) return false
    if (filter.processors === undefined || code >> 1 !== 1) return true
    return this.selectsPath(log.processorAt(n), filter.processors)
  }

  /** True when the observer selects a frame event with `code` of `frame` leaving `processor`. */
  private selectsEvent(code: number, processor: string, frame: Frame, filter: EventFilter): boolean {
    if (filter.codes[code] !== 1) return false
    if (filter.kinds !== undefined && !filter.kinds.has(frame.kind)) return false
    if (filter.processors === undefined || code >> 1 !== 1) return true
    return this.selectsPath(processor, filter.processors)
  }

  private selectsPath(processor: string, processors: readonly string[]): boolean {
    let selected = this.selected.get(processor)
    if (selected === undefined) {
      selected = selectsProcessor(processors, this.prefix, processor)
      this.selected.set(processor, selected)
    }
    return selected
  }

  private async drain(): Promise<void> {
    this.draining = true
    if (this.delivery.batch !== undefined) await this.drainBatches(this.delivery.batch)
    else await this.drainEvents(this.delivery.one)
    this.draining = false
    this.settleIdle()
  }

  /** Skips what the observer can no longer get (beyond its capacity); returns how many events wait. */
  private catchUp(): number {
    const written = this.log.written
    let behind = written - this.next
    if (behind > this.capacity) {
      this.dropped += this.countSelected(this.next, written - this.capacity)
      this.next = written - this.capacity
      behind = this.capacity
    }
    if (behind > this.maxQueued) this.maxQueued = behind
    return behind
  }

  private async drainBatches(deliver: (batch: EventBatch) => void | PromiseLike<void>): Promise<void> {
    const log = this.log
    const batch = (this.batch ??= new LogBatch(log))
    while (!this.detached) {
      const behind = this.catchUp()
      const filter = this.next >= this.onlySelectedFrom ? undefined : this.filter
      if (behind <= 0) break
      const from = this.next
      const count = Math.min(behind, EVENTS_PER_TURN)
      if (filter === undefined) batch.range(from, count)
      else {
        batch.clear()
        for (let n = from; n < from + count; n++) if (this.selects(n, filter)) batch.add(n)
      }
      let result: void | PromiseLike<void> = undefined
      if (batch.length > 0) {
        this.delivered += batch.length
        try {
          result = deliver(batch)
        } catch (err) {
          this.fail(err)
        }
      }
      this.next = from + count
      if (!this.detached) this.advanced(this.next + this.capacity)
      if (isThenable(result)) {
        try {
          await result
        } catch (err) {
          this.fail(err)
        }
      }
      if (this.next < log.written) await new Promise<void>((resolve) => later(resolve))
    }
  }

  private async drainEvents(deliver: (event: ObserverEvent) => void | PromiseLike<void>): Promise<void> {
    const log = this.log
    let inTurn = 0
    while (!this.detached) {
      const behind = this.catchUp()
      const filter = this.next >= this.onlySelectedFrom ? undefined : this.filter
      if (behind <= 0) break
      const written = log.written
      if (inTurn >= EVENTS_PER_TURN) {
        inTurn = 0
        await new Promise<void>((resolve) => later(resolve))
        continue
      }
      // A batch: the events logged so far, up to a turn's worth. It ends early when the log moves meanwhile (an
      // observer may queue frames into the task), so that the checks above run again before anything more is read.
      const from = this.next
      const stop = from + Math.min(behind, EVENTS_PER_TURN - inTurn)
      const selections = this.selections
      let awaited: PromiseLike<void> | undefined
      // It also ends when the observer is detached or changes its selection (from its own handler, say): nothing more
      // reaches it, or what comes next is checked against the new selection.
      while (this.next < stop && log.written === written && !this.detached && this.selections === selections) {
        const n = this.next++
        if (filter !== undefined && !this.selects(n, filter)) continue
        this.delivered++
        let result: void | PromiseLike<void>
        try {
          result = deliver(log.read(n))
        } catch (err) {
          this.fail(err)
          continue
        }
        if (isThenable(result)) {
          awaited = result
          break
        }
      }
      inTurn += this.next - from
      if (!this.detached) this.advanced(this.next + this.capacity)
      if (awaited !== undefined) {
        try {
          await awaited
        } catch (err) {
          this.fail(err)
        }
      }
    }
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
