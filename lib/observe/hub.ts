/**
 * The observers of one task: turns the core's frame tap and the task's lifecycle into events and hands each event
 * to every observer's bounded queue.
 * @module
 */
import { error as errorFrame } from '../frames/constructors.js'
import type { ErrorFrame, Frame, StartFrame } from '../frames/types.js'
import type { Runtime } from '../core/runtime.js'
import type { FlowDirection, FramePoint, ObservedTask, Observer, ObserverEvent, ObserverHandle, ObserverObject, ObserverStats } from './events.js'
import { EventLog, powerOfTwo } from './event-log.js'
import { later, ObserverQueue } from './observer-queue.js'
import type { FrameTap } from './tap.js'

const DEFAULT_CAPACITY = 16_384
let sessions = 0
let unnamed = 0

let jobTime = -1
const endOfJob = (): void => {
  jobTime = -1
}
/**
 * The time of the current job of the event loop: read once per synchronous run and shared by every event seen in it
 * (a batch of frames taken in one hop, the fused steps handling one frame), so an observed run pays one clock read per
 * job instead of one per frame and stage.
 */
const now = (): number => {
  if (jobTime < 0) {
    jobTime = performance.now()
    queueMicrotask(endOfJob)
  }
  return jobTime
}

interface Attached {
  readonly queue: ObserverQueue
  readonly observer: ObserverObject | undefined
}

/** Checks an observer given by a user; returns its name, capacity and handler. */
function resolveObserver(where: string, observer: unknown): { name: string; capacity: number; deliver: (e: ObserverEvent) => void | PromiseLike<void>; object: ObserverObject | undefined } {
  if (typeof observer === 'function') {
    const fn = observer as (e: ObserverEvent) => void | PromiseLike<void>
    return { name: fn.name !== '' ? fn.name : `observer${unnamed++}`, capacity: DEFAULT_CAPACITY, deliver: fn, object: undefined }
  }
  if (observer === null || typeof observer !== 'object' || typeof (observer as ObserverObject).onEvent !== 'function') {
    throw new TypeError(`${where}: an observer is a function or an object with onEvent(event)`)
  }
  const o = observer as ObserverObject
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) throw new TypeError(`${where}: observer name must be a non-empty string`)
  const capacity = o.capacity ?? DEFAULT_CAPACITY
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
    throw new TypeError(`${where}: observer capacity must be an integer >= 1, got ${String(capacity)}`)
  }
  if (o.runTask !== undefined && typeof o.runTask !== 'function') throw new TypeError(`${where}: observer runTask must be a function`)
  return { name: o.name ?? `observer${unnamed++}`, capacity, deliver: (e) => o.onEvent(e), object: o }
}

/** Normalises the `observe` option: one observer or a list of them. */
export function observerList(value: Observer | readonly Observer[] | undefined): readonly Observer[] {
  if (value === undefined) return []
  return Array.isArray(value) ? (value as readonly Observer[]) : [value as Observer]
}

/** The observers of one task. */
export class ObserverHub implements FrameTap, ObservedTask {
  readonly session = sessions++
  private attached: Attached[] = []
  private ended = false
  /** Input accepted before the task started: delivered right after the `started` event. */
  private early: ObserverEvent[] | undefined = []
  private readonly seenUp = new WeakSet<Frame>()
  private readonly log: EventLog
  private limit = 1
  private scheduled = false
  private readonly deliverLater = (): void => {
    this.scheduled = false
    for (const a of this.attached) a.queue.wake()
  }

  constructor(
    readonly name: string,
    private readonly runtime: Runtime,
    /** Receives the report of an observer's first failure (the task records it as a non-fatal error). */
    private readonly report: (frame: ErrorFrame) => void,
  ) {
    const hub = this
    this.log = new EventLog(name, this.session, {
      oldest: () => hub.oldest(),
      get limit() {
        return hub.limit
      },
    })
  }

  /** Attaches `observer`; from now on the run's frames reach it. */
  attach(observer: Observer): ObserverHandle {
    const { name, capacity, deliver, object } = resolveObserver(`${this.name}.observe()`, observer)
    const queue = new ObserverQueue(
      name,
      capacity,
      deliver,
      (message, cause) => this.report(errorFrame(`observer ${name} failed: ${message}`, { processor: `${this.name}.observe(${name})`, cause })),
      this.log,
      () => this.scheduled,
    )
    const entry: Attached = { queue, observer: object }
    this.attached = [...this.attached, entry]
    this.limit = Math.max(this.limit, powerOfTwo(capacity))
    this.runtime.tap = this
    return {
      name,
      stats: () => queue.stats(),
      detach: () => {
        queue.detach()
        this.attached = this.attached.filter((a) => a !== entry)
        if (this.attached.length === 0 && this.runtime.tap === this) {
          this.runtime.tap = undefined
          this.log.clear()
        }
      },
      idle: () => queue.idle(),
    }
  }

  /** The stats of every attached observer. */
  stats(): ObserverStats[] {
    return this.attached.map((a) => a.queue.stats())
  }

  /** Resolves once every attached observer has received everything queued for it. */
  async idle(): Promise<void> {
    await Promise.all(this.attached.map((a) => a.queue.idle()))
  }

  /** Runs `fn` through the `runTask` of every attached observer that has one (the first attached outermost). */
  runTask<T>(fn: () => T): T {
    let run = fn
    for (let i = this.attached.length - 1; i >= 0; i--) {
      const object = this.attached[i]?.observer
      if (object?.runTask === undefined) continue
      const inner = run
      const task: ObservedTask = { name: this.name, session: this.session }
      run = () => (object.runTask as <R>(t: ObservedTask, r: () => R) => R)(task, inner)
    }
    return run()
  }

  frame(frame: Frame, processor: string, direction: FlowDirection): void {
    if (direction === 'up') {
      // An upstream frame passes the context of every enclosing element on its way to the task: report it once,
      // where it was pushed.
      if (this.seenUp.has(frame)) return
      this.seenUp.add(frame)
    }
    this.emitFrame(frame, processor, direction, 'processor')
  }

  /** A frame the task accepted as input. */
  input(frame: Frame): void {
    this.emitFrame(frame, this.name, 'down', 'input')
  }

  /** A frame that left the task at the sink. */
  output(frame: Frame): void {
    this.emitFrame(frame, this.name, 'down', 'output')
  }

  /** The task started: `first` are the frames it sends ahead of its input (`start`, the initial metrics). */
  started(start: StartFrame, first: readonly Frame[]): void {
    const early = this.early ?? []
    this.early = undefined
    this.emit({ type: 'started', task: this.name, session: this.session, time: now(), wallClock: Date.now(), start })
    for (const frame of first) this.input(frame)
    for (const event of early) this.emit(event)
  }

  interrupted(): void {
    this.emit({ type: 'interrupted', task: this.name, session: this.session, time: now() })
  }

  /** The task finished; the last event any observer of this task receives. */
  finished(status: 'ended' | 'stopped' | 'cancelled' | 'errored', error: ErrorFrame | undefined): void {
    if (this.ended) return
    this.ended = true
    const early = this.early ?? []
    this.early = undefined
    for (const event of early) this.emit(event)
    const time = now()
    this.emit(
      error === undefined
        ? { type: 'ended', task: this.name, session: this.session, time, status }
        : { type: 'ended', task: this.name, session: this.session, time, status, error },
    )
  }

  private emitFrame(frame: Frame, processor: string, direction: FlowDirection, at: FramePoint): void {
    if (this.ended || this.attached.length === 0) return
    if (this.early !== undefined && this.runtime.start === undefined) {
      this.early.push({ type: 'frame', task: this.name, session: this.session, frame, processor, direction, at, time: now() })
      return
    }
    this.log.frame(frame, processor, direction, at, now())
    if (!this.scheduled) this.schedule()
  }

  /** The oldest event an attached observer still needs. */
  private oldest(): number {
    let oldest = this.log.written
    for (const a of this.attached) oldest = Math.min(oldest, a.queue.position)
    return oldest
  }

  private schedule(): void {
    this.scheduled = true
    later(this.deliverLater)
  }

  private emit(event: ObserverEvent): void {
    if (this.attached.length === 0) return
    if (event.type === 'frame') this.log.frame(event.frame, event.processor, event.direction, event.at, event.time)
    else this.log.lifecycle(event)
    if (!this.scheduled) this.schedule()
  }
}
