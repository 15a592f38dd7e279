/**
 * The client's receive queue: decoded frames waiting for the reader of `source`, bounded, with the interruption rule
 * (a `startInterruption` from the server, or a local interrupt, drops the data and app frames still queued).
 * @module
 */
import type { Frame } from '../frames/types.js'

/** How the queue ended: normally (`undefined` error) or with an error thrown to the reader after the queued frames. */
interface Ending {
  readonly error: Error | undefined
}

const isStale = (frame: Frame): boolean => frame.kind === 'data' || frame.kind === 'app'

/**
 * A FIFO of received frames with one reader; see the module documentation.
 * @example
 * ```ts
 * import { WebSocket } from 'ws'
 *
 * const ws = new WebSocket('ws://127.0.0.1:8080')
 * const queue = new ReceiveQueue(256, () => ws.pause(), () => ws.resume(), () => ws.close())
 * queue.push(frame)
 * for await (const f of queue) console.log(Frames.format(f))
 * ```
 */
export class ReceiveQueue implements AsyncIterableIterator<Frame, undefined> {
  private items: Frame[] = []
  private head = 0
  private ending: Ending | undefined
  private waiter: ((r: IteratorResult<Frame, undefined>) => void) | undefined
  private waiterReject: ((err: unknown) => void) | undefined
  private discardUntilAck = false
  private ackTimer: ReturnType<typeof setTimeout> | undefined
  /** Frames dropped as stale because of an interruption. */
  dropped = 0

  /**
   * @param onLow called when the queue shrinks to half of `highWater` after having reached it (resume reading).
   * @param onHigh called when the queue reaches `highWater` (pause reading).
   * @param onReturn called when the reader stops early (`return()`).
   */
  constructor(
    private readonly highWater: number,
    private readonly onHigh: () => void,
    private readonly onLow: () => void,
    private readonly onReturn: () => void,
  ) {}

  get length(): number {
    return this.items.length - this.head
  }

  /** True while frames from before a local interruption are being dropped (until the server acknowledges it). */
  get awaitingAck(): boolean {
    return this.discardUntilAck
  }

  /** Adds a received frame, applying the interruption rule. */
  push(frame: Frame): void {
    if (this.ending !== undefined) return
    if (frame.kind === 'system' && frame.type === 'startInterruption') {
      this.dropStale()
      this.stopDiscarding()
    } else if (this.discardUntilAck && isStale(frame)) {
      this.dropped++
      return
    }
    const w = this.waiter
    if (w !== undefined) {
      this.waiter = undefined
      this.waiterReject = undefined
      w({ done: false, value: frame })
      return
    }
    this.items.push(frame)
    if (this.length === this.highWater) this.onHigh()
  }

  /**
   * A local interruption: drops the queued data and app frames, and every data or app frame that arrives until the
   * server's `startInterruption` (or until `ackTimeoutMs` passes, in case the server does not allow interruptions).
   */
  interrupt(ackTimeoutMs: number): void {
    if (this.ending !== undefined) return
    this.dropStale()
    this.discardUntilAck = true
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer)
    this.ackTimer = setTimeout(() => this.stopDiscarding(), ackTimeoutMs)
  }

  /** No more frames: the reader gets what is queued, then `done` (or `error`, thrown). */
  end(error?: Error): void {
    if (this.ending !== undefined) return
    this.ending = { error }
    this.stopDiscarding()
    if (this.length === 0) this.settleWaiter()
  }

  next(): Promise<IteratorResult<Frame, undefined>> {
    if (this.length > 0) {
      const value = this.items[this.head] as Frame
      this.items[this.head] = undefined as unknown as Frame
      this.head++
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head)
        this.head = 0
      }
      if (this.length === Math.floor(this.highWater / 2)) this.onLow()
      return Promise.resolve({ done: false, value })
    }
    if (this.ending !== undefined) {
      const err = this.ending.error
      this.ending = { error: undefined }
      return err === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(err)
    }
    if (this.waiter !== undefined) return Promise.reject(new TypeError('the source has one reader'))
    return new Promise((resolve, reject) => {
      this.waiter = resolve
      this.waiterReject = reject
    })
  }

  return(): Promise<IteratorResult<Frame, undefined>> {
    const wasOpen = this.ending === undefined
    this.items = []
    this.head = 0
    this.ending = { error: undefined }
    this.stopDiscarding()
    this.settleWaiter()
    if (wasOpen) this.onReturn()
    return Promise.resolve({ done: true, value: undefined })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private settleWaiter(): void {
    const w = this.waiter
    const reject = this.waiterReject
    if (w === undefined) return
    this.waiter = undefined
    this.waiterReject = undefined
    const err = this.ending?.error
    if (err !== undefined && reject !== undefined) {
      this.ending = { error: undefined }
      reject(err)
    } else w({ done: true, value: undefined })
  }

  private dropStale(): void {
    const before = this.length
    if (before === 0) return
    const kept = this.items.slice(this.head).filter((f) => !isStale(f))
    this.dropped += before - kept.length
    this.items = kept
    this.head = 0
    if (before >= Math.floor(this.highWater / 2) && this.length < Math.floor(this.highWater / 2)) this.onLow()
  }

  private stopDiscarding(): void {
    this.discardUntilAck = false
    if (this.ackTimer !== undefined) {
      clearTimeout(this.ackTimer)
      this.ackTimer = undefined
    }
  }
}
