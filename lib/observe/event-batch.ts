/**
 * The view of the event log handed to an observer's `onEvents`: a run of positions of the log (or, for an observer
 * that selects events, the positions it selects), read through the log's columns.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { LIFECYCLE, type EventLog } from './event-log.js'
import type { EventBatch, FlowDirection, FramePoint, ObserverEvent } from './events.js'

/** A reusable batch view over one observer's events: `fill` it, hand it over, and it is refilled for the next batch. */
export class LogBatch implements EventBatch {
  length = 0
  /** Position of event 0 when `selected` is not used. */
  private base = 0
  /** Positions of the events, when the observer selects some (else consecutive from `base`). */
  private positions = new Float64Array(64)
  private sparse = false

  constructor(readonly log: EventLog) {}

  get task(): string {
    return this.log.task
  }

  get session(): number {
    return this.log.session
  }

  /** Makes the view the `count` consecutive events from position `base`. */
  range(base: number, count: number): void {
    this.base = base
    this.length = count
    this.sparse = false
  }

  /** Makes the view empty, to be filled with {@link add}. */
  clear(): void {
    this.length = 0
    this.sparse = true
  }

  /** Adds the event at position `n` to a view being filled. */
  add(n: number): void {
    if (this.length === this.positions.length) {
      const next = new Float64Array(this.positions.length * 2)
      next.set(this.positions)
      this.positions = next
    }
    this.positions[this.length++] = n
  }

  /** The log position of event `i`, unchecked (for readers inside the library that iterate `0..length`). */
  position(i: number): number {
    return this.sparse ? (this.positions[i] as number) : this.base + i
  }

  private at_(i: number): number {
    if (i < 0 || i >= this.length || !Number.isInteger(i)) throw new RangeError(`event index ${String(i)} is not in 0..${this.length - 1}`)
    return this.sparse ? (this.positions[i] as number) : this.base + i
  }

  /** Position of frame event `i`. */
  private frameAt(i: number): number {
    const n = this.at_(i)
    if (this.log.codeAt(n) === LIFECYCLE) throw new TypeError(`event ${i} is a ${this.log.typeAt(n)} event, not a frame event`)
    return n
  }

  type(i: number): ObserverEvent['type'] {
    return this.log.typeAt(this.at_(i))
  }

  event(i: number): ObserverEvent {
    return this.log.read(this.at_(i))
  }

  time(i: number): number {
    return this.log.timeAt(this.at_(i))
  }

  frame(i: number): Frame {
    return this.log.frameAt(this.frameAt(i))
  }

  processor(i: number): string {
    return this.log.processorAt(this.frameAt(i))
  }

  direction(i: number): FlowDirection {
    return this.log.directionAt(this.frameAt(i))
  }

  at(i: number): FramePoint {
    return this.log.pointAt(this.frameAt(i))
  }
}
