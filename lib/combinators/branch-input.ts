/**
 * The input of one branch of a fan-out: a bounded FIFO the fan-out fills and the branch reads, which tells the
 * fan-out when the branch takes a frame and when it waits for one (it "finished with" everything it took).
 * @module
 */
import { Deque } from '../internal/channel.js'
import type { Frame } from '../frames/types.js'
import { yielded } from '../internal/yielded.js'

/** One input frame with its position in the input stream (shared by every branch). */
export interface InputItem {
  readonly frame: Frame
  readonly seq: number
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/** What a {@link BranchInput} reports to its fan-out. */
export interface BranchInputEvents {
  /** The branch took `item`. */
  onTake(branch: number, item: InputItem): void
  /** The branch asked for a frame and none is buffered: it is idle. */
  onIdle(branch: number): void
}

/**
 * A branch's bounded input queue. `offer` never waits: the fan-out checks {@link BranchInput.full} before it reads
 * its source, so the queue holds at most `capacity` frames (plus a `cancel` or `stopTask` put in front).
 *
 * @example
 * ```ts
 * const events: BranchInputEvents = { onTake: () => {}, onIdle: () => {} }
 * const input = new BranchInput(0, 16, events)
 * input.offer({ frame, seq: 0 })
 * for await (const f of input) console.log(Frames.format(f))
 * ```
 */
export class BranchInput implements AsyncIterableIterator<Frame> {
  private readonly buffer = new Deque<InputItem>()
  private waiter: ((r: IteratorResult<Frame>) => void) | undefined
  private closed = false
  /** True once the branch called `return()`: it reads no more. */
  returned = false
  /** Called with every frame handed to the branch, at that moment (see `DeliveryHooked`). */
  onDeliver: ((value: Frame) => void) | undefined

  constructor(
    readonly branch: number,
    readonly capacity: number,
    private readonly events: BranchInputEvents,
  ) {}

  /** Frames buffered. */
  get length(): number {
    return this.buffer.length
  }

  /** True when the branch waits for a frame. */
  get waiting(): boolean {
    return this.waiter !== undefined
  }

  /** True when the branch will take nothing more: it returned, or the input is closed and drained. */
  get finished(): boolean {
    return this.returned || (this.closed && this.buffer.length === 0)
  }

  /** True when the queue is full (a finished input is never full: frames offered to it are dropped). */
  get full(): boolean {
    return !this.finished && this.buffer.length >= this.capacity
  }

  /** Adds `item` at the back (or, with `front`, ahead of the queued frames). Dropped once the input is finished. */
  offer(item: InputItem, front = false): void {
    if (this.closed || this.returned) return
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      this.events.onTake(this.branch, item)
      this.onDeliver?.(item.frame)
      waiter(yielded(item.frame))
      return
    }
    if (front) this.buffer.unshift(item)
    else this.buffer.push(item)
  }

  /** No more frames: the branch drains what is queued, then sees the end of its input. */
  close(): void {
    if (this.closed) return
    this.closed = true
    const waiter = this.waiter
    if (waiter !== undefined && this.buffer.length === 0) {
      this.waiter = undefined
      waiter(DONE)
    }
  }

  /** Removes queued frames for which `drop` is true; returns how many were removed. */
  removeWhere(drop: (frame: Frame) => boolean): number {
    return this.buffer.removeWhere((item) => drop(item.frame)).length
  }

  next(): Promise<IteratorResult<Frame>> {
    const item = this.buffer.shift()
    if (item !== undefined) {
      this.events.onTake(this.branch, item)
      this.onDeliver?.(item.frame)
      return Promise.resolve(yielded(item.frame))
    }
    if (this.closed || this.returned) return Promise.resolve(DONE)
    if (this.waiter !== undefined) return Promise.reject(new TypeError('branch input: next() called while a read is pending'))
    const pending = new Promise<IteratorResult<Frame>>((resolve) => {
      this.waiter = resolve
    })
    this.events.onIdle(this.branch)
    return pending
  }

  /** The branch stops reading: queued frames are dropped, a pending read ends. */
  return(): Promise<IteratorResult<Frame>> {
    if (!this.returned) {
      this.returned = true
      this.buffer.clear()
      const waiter = this.waiter
      this.waiter = undefined
      waiter?.(DONE)
      this.events.onIdle(this.branch)
    }
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
