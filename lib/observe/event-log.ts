/**
 * The events of one observed task, stored without allocating: a ring of columns (the frame or lifecycle event, the
 * processor's name, a code for direction and point, the time). Observers read it through cursors; an event object is
 * made only when it is handed to an observer, so events die young and an observed run stays cheap on the heap.
 * @module
 */
import type { Frame } from '../frames/types.js'
import type { FlowDirection, FramePoint, LifecycleEvent, ObserverEvent } from './events.js'

/** The code of a lifecycle event in the log. */
export const LIFECYCLE = 255
const DIRECTIONS: readonly FlowDirection[] = ['down', 'up']
const POINTS: readonly FramePoint[] = ['input', 'processor', 'output']

/** A growable ring of events; `written` counts every event ever appended. */
export class EventLog {
  private size = 256
  private mask = this.size - 1
  private items: (Frame | LifecycleEvent | undefined)[] = new Array<Frame | LifecycleEvent | undefined>(this.size).fill(undefined)
  private procs: (string | undefined)[] = new Array<string | undefined>(this.size).fill(undefined)
  private codes = new Uint8Array(this.size)
  private times = new Float64Array(this.size)
  written = 0
  /**
   * The position up to which events can be written without overwriting one a reader still needs (refreshed from
   * `readers` when reached): one comparison per event.
   */
  private until = this.size

  constructor(
    readonly task: string,
    readonly session: number,
    /** The readers: the oldest position one of them still needs, and the most events any of them may keep. */
    private readonly readers: { oldest(): number; readonly limit: number },
  ) {}

  /** Capacity of the ring (events kept for the slowest reader). */
  get capacity(): number {
    return this.size
  }

  /** Appends a frame event; `code` is its `eventCode` (direction and point). */
  frame(frame: Frame, processor: string, code: number, time: number): void {
    const n = this.written
    if (n >= this.until) this.room()
    const i = n & this.mask
    this.items[i] = frame
    this.procs[i] = processor
    this.codes[i] = code
    this.times[i] = time
    this.written = n + 1
  }

  /** The code of the event at position `n`: its `eventCode`, or {@link LIFECYCLE}. */
  codeAt(n: number): number {
    return this.codes[n & this.mask] as number
  }

  /** The frame of the frame event at position `n`. */
  frameAt(n: number): Frame {
    return this.items[n & this.mask] as Frame
  }

  /** The time of the event at position `n`. */
  timeAt(n: number): number {
    return this.times[n & this.mask] as number
  }

  /** The type of the event at position `n`. */
  typeAt(n: number): ObserverEvent['type'] {
    const i = n & this.mask
    return this.codes[i] === LIFECYCLE ? (this.items[i] as LifecycleEvent).type : 'frame'
  }

  /** The direction of the frame event at position `n`. */
  directionAt(n: number): FlowDirection {
    return DIRECTIONS[(this.codes[n & this.mask] as number) & 1] as FlowDirection
  }

  /** The point of the frame event at position `n`. */
  pointAt(n: number): FramePoint {
    return POINTS[((this.codes[n & this.mask] as number) >> 1) & 3] as FramePoint
  }

  /** The processor of the frame event at position `n`. */
  processorAt(n: number): string {
    return this.procs[n & this.mask] as string
  }

  /** Appends a lifecycle event. */
  lifecycle(event: LifecycleEvent): void {
    if (this.written >= this.until) this.room()
    const i = this.written & this.mask
    this.items[i] = event
    this.procs[i] = undefined
    this.codes[i] = LIFECYCLE
    this.times[i] = event.time
    this.written++
  }

  /** The event at position `n` (which must still be in the ring) as an object. */
  read(n: number): ObserverEvent {
    const i = n & this.mask
    const code = this.codes[i] as number
    const item = this.items[i]
    if (code === LIFECYCLE) return item as LifecycleEvent
    return {
      type: 'frame',
      task: this.task,
      session: this.session,
      frame: item as Frame,
      processor: this.procs[i] as string,
      direction: DIRECTIONS[code & 1] as FlowDirection,
      at: POINTS[code >> 1] as FramePoint,
      time: this.times[i] as number,
    }
  }

  /** Lets go of every stored frame (once nobody will read them). */
  clear(): void {
    this.items.fill(undefined)
    this.procs.fill(undefined)
  }

  /**
   * Makes room for the next event. The ring grows (up to the readers' limit) rather than overwrite an event a reader
   * still needs; at the limit the oldest event is overwritten, and the reader that needed it counts it as dropped.
   */
  private room(): void {
    const oldest = this.readers.oldest()
    while (this.written - oldest >= this.size && this.size < this.readers.limit) this.grow()
    // At the limit: one event at a time overwrites the oldest.
    this.until = Math.max(oldest, this.written - this.size + 1) + this.size
  }

  private grow(): void {
    const next = this.size * 2
    const items = new Array<Frame | LifecycleEvent | undefined>(next).fill(undefined)
    const procs = new Array<string | undefined>(next).fill(undefined)
    const codes = new Uint8Array(next)
    const times = new Float64Array(next)
    const from = Math.max(0, this.written - this.size)
    for (let n = from; n < this.written; n++) {
      const a = n & (this.size - 1)
      const b = n & (next - 1)
      items[b] = this.items[a]
      procs[b] = this.procs[a]
      codes[b] = this.codes[a] as number
      times[b] = this.times[a] as number
    }
    this.items = items
    this.procs = procs
    this.codes = codes
    this.times = times
    this.size = next
    this.mask = next - 1
  }
}

/** The smallest power of two >= `n`. */
export function powerOfTwo(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}
