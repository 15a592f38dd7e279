/**
 * A bounded single-consumer channel with a priority lane. The building block of every queue in the library:
 * the task input, buffered stages and the parallel merge.
 *
 * - `push(v)` stores `v` and returns `undefined` when there is room, or a promise that settles once `v` has
 *   been taken into the buffer (backpressure: the producer awaits it).
 * - `pushPriority(v)` stores `v` in the priority lane, ahead of everything in the normal lane, ignoring capacity.
 * - `next()` takes from the priority lane first, then the normal lane (FIFO in each).
 * - `close()` lets the consumer drain what is queued and then see `done`; `abort()` drops everything.
 * @module
 */
import { yielded, Waiting } from './yielded.js'

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/** A growable ring buffer. */
export class Deque<T> {
  private items: (T | undefined)[]
  private head = 0
  private count = 0

  constructor(initialCapacity = 16) {
    let cap = 4
    while (cap < initialCapacity) cap *= 2
    this.items = new Array<T | undefined>(cap)
  }

  get length(): number {
    return this.count
  }

  push(value: T): void {
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) & (this.items.length - 1)] = value
    this.count++
  }

  unshift(value: T): void {
    if (this.count === this.items.length) this.grow()
    this.head = (this.head - 1) & (this.items.length - 1)
    this.items[this.head] = value
    this.count++
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined
    const value = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) & (this.items.length - 1)
    this.count--
    return value
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head]
  }

  /** Removes every item for which `drop` returns true, keeping the order of the rest; returns the removed ones. */
  removeWhere(drop: (value: T) => boolean): T[] {
    const removed: T[] = []
    const kept: T[] = []
    for (let i = 0; i < this.count; i++) {
      const v = this.items[(this.head + i) & (this.items.length - 1)] as T
      if (drop(v)) removed.push(v)
      else kept.push(v)
    }
    if (removed.length > 0) {
      this.clear()
      for (const v of kept) this.push(v)
    }
    return removed
  }

  clear(): void {
    this.items.fill(undefined)
    this.head = 0
    this.count = 0
  }

  toArray(): T[] {
    const out: T[] = []
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) & (this.items.length - 1)] as T)
    return out
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)]
    this.items = next
    this.head = 0
  }
}

/**
 * What a {@link Channel} reads on demand when its consumer finds it empty (`Channel.refill`): `read()` returns an item
 * to hand over at once (never stored), or `undefined` after storing what it has synchronously (`push`,
 * `pushPriority`, `close`), if anything: the take then hands that over.
 */
export interface InputSource<T> {
  read(): T | undefined
}

/** A producer waiting for room, with the value it offers. */
class BlockedWriter<T> {
  constructor(
    readonly value: T,
    readonly resolve: () => void,
  ) {}
}
type Writer<T> = BlockedWriter<T>
type Reader<T> = Waiting<IteratorResult<T, undefined>>

/**
 * A bounded channel; see the module documentation.
 *
 * A producer blocked on a full channel is let in once the consumer drained the normal lane down to
 * {@link Channel.lowWater} (half the capacity), and then as many blocked producers as fit: one wake-up per half a
 * buffer instead of one per frame. Capacity, order and what an interruption or cancel finds queued are unchanged:
 * a blocked producer's value waits (visible to `removeWhere`, counted in `size`) until it is let in.
 */
export class Channel<T> implements AsyncIterableIterator<T, undefined> {
  readonly capacity: number
  /** Blocked producers are let in when the normal lane holds at most this many items (`floor(capacity / 2)`). */
  readonly lowWater: number
  private readonly buffer = new Deque<T>()
  private readonly priority = new Deque<T>(4)
  private readonly writers = new Deque<Writer<T>>(4)
  private readonly readers = new Deque<Reader<T>>(4)
  private closed = false
  private aborted = false
  private failure: { error: unknown } | undefined
  /** Called when the consumer calls `return()` (it stopped reading). */
  onReturn: (() => void) | undefined
  /** Called with every item handed to the consumer, at that moment (see `DeliveryHooked`). */
  onDeliver: ((value: T) => void) | undefined
  /**
   * A source read on demand: read when the consumer takes and both lanes are empty (and the channel is open); see
   * {@link InputSource}. Nothing is read ahead of the consumer.
   */
  refill: InputSource<T> | undefined

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`channel capacity must be an integer >= 1, got ${String(capacity)}`)
    }
    this.capacity = capacity
    this.lowWater = capacity >>> 1
  }

  /** Items waiting in the channel (both lanes, plus blocked producers). */
  get size(): number {
    return this.buffer.length + this.priority.length + this.writers.length
  }

  /** True once closed and empty: the consumer will see `done`. */
  get exhausted(): boolean {
    return this.closed && this.buffer.length === 0 && this.priority.length === 0
  }

  /** True once `close()` or `abort()` was called. */
  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Adds `value` at the back of the normal lane. Returns `undefined` when it was stored at once, else a promise that
   * resolves when it has been stored (or dropped because the channel closed). Pushing to a closed channel drops the value.
   */
  push(value: T): Promise<void> | undefined {
    if (this.closed) return undefined
    const reader = this.readers.shift()
    if (reader !== undefined) {
      this.onDeliver?.(value)
      reader.resolve(yielded(value))
      return undefined
    }
    if (this.buffer.length < this.capacity) {
      this.buffer.push(value)
      return undefined
    }
    return new Promise<void>((resolve) => this.writers.push(new BlockedWriter(value, resolve)))
  }

  /**
   * Adds `value` to the priority lane (ahead of the normal lane, ignoring capacity). Accepted after `close()` as long
   * as the consumer has not reached the end (so an interruption or cancel can still overtake a queued end).
   */
  pushPriority(value: T): void {
    if (this.aborted || (this.closed && this.buffer.length === 0 && this.priority.length === 0)) return
    const reader = this.readers.shift()
    if (reader !== undefined) {
      this.onDeliver?.(value)
      reader.resolve(yielded(value))
    } else this.priority.push(value)
  }

  /** Puts `value` first of all (before the priority lane), ignoring capacity and `close()`; not after `abort()`. */
  unshiftFirst(value: T): void {
    if (this.aborted) return
    const reader = this.readers.shift()
    if (reader !== undefined) {
      this.onDeliver?.(value)
      reader.resolve(yielded(value))
    } else this.priority.unshift(value)
  }

  /** Adds `value` at the very front of the normal lane, ignoring capacity. */
  unshift(value: T): void {
    if (this.closed) return
    const reader = this.readers.shift()
    if (reader !== undefined) {
      this.onDeliver?.(value)
      reader.resolve(yielded(value))
    } else this.buffer.unshift(value)
  }

  /** Removes queued items (both lanes and blocked producers) for which `drop` is true; returns them in order. */
  removeWhere(drop: (value: T) => boolean): T[] {
    const removed = [...this.priority.removeWhere(drop), ...this.buffer.removeWhere(drop)]
    if (this.writers.length > 0) {
      const blocked = this.writers.toArray()
      this.writers.clear()
      for (const w of blocked) {
        if (drop(w.value)) {
          removed.push(w.value)
          w.resolve()
        } else this.writers.push(w)
      }
      this.admitWriters()
    }
    return removed
  }

  /** No more pushes; the consumer drains what is queued, then sees `done`. */
  close(): void {
    if (this.closed) return
    this.closed = true
    while (this.readers.length > 0) this.readers.shift()?.resolve(DONE)
  }

  /** Closes and drops everything queued; blocked producers are released. With `error`, the consumer's next read rejects. */
  abort(error?: unknown): void {
    this.closed = true
    this.aborted = true
    if (error !== undefined) this.failure = { error }
    this.buffer.clear()
    this.priority.clear()
    while (this.writers.length > 0) this.writers.shift()?.resolve()
    while (this.readers.length > 0) {
      const r = this.readers.shift()
      if (r === undefined) break
      if (this.failure !== undefined) r.reject(this.failure.error)
      else r.resolve(DONE)
    }
  }

  /** Takes the next item without waiting, or `undefined` when none is queued. */
  tryTake(): { value: T } | undefined {
    const value = this.tryValue()
    return value === undefined ? undefined : yielded(value)
  }

  /**
   * The next item if one is available without waiting, else `undefined` (nothing queued, the end, or a failure:
   * `tryNext()` / `next()` tell which). Like {@link tryNext} without the result object. The priority lane comes first,
   * then the normal lane; when both are empty, the `refill` source is read.
   */
  tryValue(): T | undefined {
    if (this.priority.length > 0) {
      const value = this.priority.shift() as T
      this.onDeliver?.(value)
      return value
    }
    if (this.buffer.length > 0) {
      const value = this.buffer.shift() as T
      if (this.writers.length > 0 && this.buffer.length <= this.lowWater) this.admitWriters()
      this.onDeliver?.(value)
      return value
    }
    if (this.refill === undefined || this.closed) return undefined
    const direct = this.refill.read()
    if (direct !== undefined) {
      this.onDeliver?.(direct)
      return direct
    }
    // The source stored what it had (a priority frame, `end`): hand that over.
    return this.priority.length > 0 || this.buffer.length > 0 ? this.tryValue() : undefined
  }

  /**
   * The next result if one is available without waiting (an item, or `done` once closed and drained), else
   * `undefined` (nothing queued yet, or the channel failed: `next()` reports the failure). Lets a consumer take every
   * queued item in one hop.
   */
  tryNext(): IteratorResult<T, undefined> | undefined {
    const value = this.tryValue()
    if (value !== undefined) return yielded(value)
    if (this.failure !== undefined) return undefined
    return this.closed ? DONE : undefined
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const r = this.tryNext()
    if (r !== undefined) return Promise.resolve(r)
    if (this.failure !== undefined) return Promise.reject(this.failure.error)
    return new Promise((resolve, reject) => this.readers.push(new Waiting(resolve, reject)))
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.abort()
    this.onReturn?.()
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private admitWriters(): void {
    while (this.writers.length > 0 && this.buffer.length < this.capacity) {
      const w = this.writers.shift() as Writer<T>
      this.buffer.push(w.value)
      w.resolve()
    }
  }
}
