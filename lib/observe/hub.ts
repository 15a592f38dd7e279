/**
 * The observers of one task: turns the core's frame tap and the task's lifecycle into events and hands each event
 * to every observer's bounded queue.
 * @module
 */
import { error as errorFrame } from '../frames/constructors.js'
import type { ErrorFrame, Frame, StartFrame } from '../frames/types.js'
import type { Runtime } from '../core/runtime.js'
import type { EventBatch, FlowDirection, ObservedTask, Observer, ObserverEvent, ObserverHandle, ObserverObject, ObserverSelection, ObserverStats } from './events.js'
import { eventCode, eventFilter, selectsProcessor, type EventFilter } from './event-filter.js'
import { EventLog, powerOfTwo } from './event-log.js'
import { later, ObserverQueue, type Delivery } from './observer-queue.js'
import type { FrameTap } from './tap.js'

const DEFAULT_CAPACITY = 16_384
const INPUT = eventCode('down', 'input')
const OUTPUT = eventCode('down', 'output')
const DOWN = eventCode('down', 'processor')
const UP = eventCode('up', 'processor')
let sessions = 0
let unnamed = 0

let jobTime = -1
const endOfJob = (): void => {
  jobTime = -1
}
/** A settled promise: a reaction on it runs once the current job is over (cheaper than `queueMicrotask`). */
const SETTLED = Promise.resolve()
/**
 * The time of the current job of the event loop: read once per synchronous run and shared by every event seen in it
 * (a batch of frames taken in one hop, the fused steps handling one frame), so an observed run pays one clock read per
 * job instead of one per frame and stage.
 */
const now = (): number => {
  if (jobTime < 0) {
    jobTime = performance.now()
    void SETTLED.then(endOfJob)
  }
  return jobTime
}
/**
 * The time of an event that is alone in its job (an awaited result, an input, an upstream frame): read for it, which
 * costs less than scheduling the end of a job for one event. The time of the job, when already read, is taken instead.
 */
const nowAlone = (): number => (jobTime < 0 ? performance.now() : jobTime)

interface Attached {
  readonly queue: ObserverQueue
  readonly observer: ObserverObject | undefined
}

/** Checks an observer given by a user; returns its name, capacity and handler. */
function resolveObserver(
  where: string,
  observer: unknown,
): { name: string; capacity: number; delivery: Delivery; object: ObserverObject | undefined; filter: EventFilter | undefined } {
  if (typeof observer === 'function') {
    const fn = observer as (e: ObserverEvent) => void | PromiseLike<void>
    return { name: fn.name !== '' ? fn.name : `observer${unnamed++}`, capacity: DEFAULT_CAPACITY, delivery: { one: fn }, object: undefined, filter: undefined }
  }
  const handlers = observer as ObserverObject | null
  if (handlers === null || typeof handlers !== 'object' || (typeof handlers.onEvent !== 'function' && typeof handlers.onEvents !== 'function')) {
    throw new TypeError(`${where}: an observer is a function or an object with onEvent(event) or onEvents(batch)`)
  }
  const o = observer as ObserverObject
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) throw new TypeError(`${where}: observer name must be a non-empty string`)
  const capacity = o.capacity ?? DEFAULT_CAPACITY
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
    throw new TypeError(`${where}: observer capacity must be an integer >= 1, got ${String(capacity)}`)
  }
  if (o.runTask !== undefined && typeof o.runTask !== 'function') throw new TypeError(`${where}: observer runTask must be a function`)
  const filter = eventFilter(where, o)
  const delivery: Delivery =
    typeof o.onEvents === 'function' ? { batch: (b) => (o.onEvents as (b: EventBatch) => void | PromiseLike<void>).call(o, b) } : { one: (e) => (o.onEvent as (e: ObserverEvent) => void | PromiseLike<void>).call(o, e) }
  return { name: o.name ?? `observer${unnamed++}`, capacity, delivery, object: o, filter }
}

/** Normalises the `observe` option: one observer or a list of them. */
export function observerList(value: Observer | readonly Observer[] | undefined): readonly Observer[] {
  if (value === undefined) return []
  return Array.isArray(value) ? (value as readonly Observer[]) : [value as Observer]
}

/** The observers of one task. */
export class ObserverHub implements FrameTap {
  readonly session = sessions++
  private attached: Attached[] = []
  private ended = false
  /** Input accepted before the task started: delivered right after the `started` event. */
  private early: ObserverEvent[] | undefined = []
  private readonly seenUp = new WeakSet<Frame>()
  private readonly log: EventLog
  private limit = 1
  private scheduled = false
  /** What at least one attached observer selects: by event code, and the processors (undefined: all of them). */
  private readonly wanted = new Uint8Array(8)
  private paths: readonly string[] | undefined
  /** Whether some observer selects each processor met so far (only while `paths` is set). */
  private readonly pathSelected = new Map<string, boolean>()
  private readonly prefix: string
  /**
   * The log position from which every attached observer is full (the largest of their {@link ObserverQueue.until}):
   * from there on a frame event is not recorded but counted as dropped by each observer that selects it, until an
   * observer takes events and moves this on.
   */
  private open = Number.POSITIVE_INFINITY
  /** Whether every attached observer selects every frame event recorded (so a dropped one needs no check). */
  private selectAll = false
  /**
   * Frame events not recorded while every observer was full and selected them all, not yet added to each observer's
   * drop count ({@link ObserverHub.settle}): while the task is full, a dropped event costs one increment.
   */
  private unrecorded = 0
  private readonly advanced = (until: number): void => {
    if (until > this.open) this.open = until
  }
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
    this.prefix = `${name}/`
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
    const { name, capacity, delivery, object, filter } = resolveObserver(`${this.name}.observe()`, observer)
    const queue = new ObserverQueue(
      name,
      capacity,
      delivery,
      (message, cause) => this.report(errorFrame(`observer ${name} failed: ${message}`, { processor: `${this.name}.observe(${name})`, cause })),
      this.log,
      () => this.scheduled,
      filter,
      this.prefix,
      this.advanced,
    )
    const entry: Attached = { queue, observer: object }
    this.settle()
    this.attached = [...this.attached, entry]
    this.reopen()
    this.limit = Math.max(this.limit, powerOfTwo(capacity))
    this.recompute()
    return {
      name,
      select: (selection) => this.reselect(entry, selection),
      stats: () => {
        this.settle()
        return queue.stats()
      },
      detach: () => {
        this.settle()
        queue.detach()
        this.attached = this.attached.filter((a) => a !== entry)
        this.reopen()
        this.recompute()
        if (this.attached.length === 0) this.log.clear()
      },
      idle: () => queue.idle(),
    }
  }

  /**
   * Merges what the attached observers select into what is recorded; the core's tap is installed only while some
   * observer wants frames leaving processors.
   */
  private recompute(): void {
    this.settle()
    this.wanted.fill(0)
    let paths: string[] | undefined = []
    for (const { queue } of this.attached) {
      const filter = queue.filter
      for (let code = 0; code < 8; code++) if (filter === undefined || filter.codes[code] === 1) this.wanted[code] = 1
      const wantsProcessors = filter === undefined || filter.codes[DOWN] === 1 || filter.codes[UP] === 1
      if (wantsProcessors) paths = filter?.processors === undefined || paths === undefined ? undefined : [...paths, ...filter.processors]
    }
    this.paths = paths
    this.pathSelected.clear()
    for (const { queue } of this.attached) {
      const f = queue.filter
      // Everything recorded is selected: the queue's filter only repeats what the task already left out.
      const only = f !== undefined && f.kinds === undefined && f.processors === undefined && this.wanted.every((w, code) => w === 0 || f.codes[code] === 1)
      if (!only) queue.onlySelectedFrom = Number.POSITIVE_INFINITY
      else if (queue.onlySelectedFrom === Number.POSITIVE_INFINITY) queue.onlySelectedFrom = this.log.written
    }
    this.selectAll = this.paths === undefined && this.attached.every(({ queue }) => queue.filter === undefined || queue.onlySelectedFrom !== Number.POSITIVE_INFINITY)
    const tap = this.wanted[DOWN] === 1 || this.wanted[UP] === 1 ? this : undefined
    if (tap !== undefined) this.runtime.tap = tap
    else if (this.runtime.tap === this) this.runtime.tap = undefined
  }

  /** Replaces what the observer of `entry` selects (see {@link ObservedTask.select}). */
  private reselect(entry: Attached, selection: ObserverSelection): void {
    if (selection === null || typeof selection !== 'object') throw new TypeError(`${this.name}: observer ${entry.queue.name}: a selection is an object ({ at, processors, kinds, directions })`)
    const filter = eventFilter(`${this.name}: observer ${entry.queue.name}`, selection)
    if (!this.attached.includes(entry)) return
    this.settle()
    entry.queue.reselect(filter)
    entry.queue.onlySelectedFrom = Number.POSITIVE_INFINITY
    this.recompute()
  }

  /** Recomputes {@link ObserverHub.open} from the attached observers. */
  private reopen(): void {
    let open = Number.NEGATIVE_INFINITY
    for (const { queue } of this.attached) open = Math.max(open, queue.until)
    this.open = this.attached.length === 0 ? Number.POSITIVE_INFINITY : open
  }

  /** Counts a frame event that was not recorded (every observer full) as dropped by each observer that selects it. */
  private skip(frame: Frame, processor: string, code: number): void {
    if (this.selectAll) {
      this.unrecorded++
      return
    }
    const attached = this.attached
    for (let i = 0; i < attached.length; i++) (attached[i] as Attached).queue.skip(code, processor, frame)
  }

  /** Adds the events counted in {@link ObserverHub.unrecorded} to the drops of every attached observer. */
  private settle(): void {
    const count = this.unrecorded
    if (count === 0) return
    this.unrecorded = 0
    for (const { queue } of this.attached) queue.dropSteps(count)
  }

  /** True when some attached observer selects frames leaving `processor`. */
  private selects(processor: string): boolean {
    const paths = this.paths
    if (paths === undefined) return true
    let selected = this.pathSelected.get(processor)
    if (selected === undefined) {
      selected = selectsProcessor(paths, this.prefix, processor)
      this.pathSelected.set(processor, selected)
    }
    return selected
  }

  /** The stats of every attached observer. */
  stats(): ObserverStats[] {
    this.settle()
    return this.attached.map((a) => a.queue.stats())
  }

  /** Resolves once every attached observer has received everything queued for it. */
  async idle(): Promise<void> {
    await Promise.all(this.attached.map((a) => a.queue.idle()))
  }

  /** True when some attached observer runs the task's work itself (`runTask`). */
  wrapsTask(): boolean {
    return this.attached.some((a) => a.observer?.runTask !== undefined)
  }

  /** Runs `fn` through the `runTask` of every attached observer that has one (the first attached outermost). */
  runTask<T>(fn: () => T): T {
    let run = fn
    for (let i = this.attached.length - 1; i >= 0; i--) {
      const object = this.attached[i]?.observer
      if (object?.runTask === undefined) continue
      const inner = run
      const entry = this.attached[i] as Attached
      const task: ObservedTask = { name: this.name, session: this.session, select: (selection) => this.reselect(entry, selection) }
      run = () => (object.runTask as <R>(t: ObservedTask, r: () => R) => R)(task, inner)
    }
    return run()
  }

  frame(frame: Frame, processor: string, direction: FlowDirection, alone = false): void {
    if (direction === 'up') {
      // An upstream frame passes the context of every enclosing element on its way to the task: report it once,
      // where it was pushed.
      if (this.wanted[UP] !== 1 || this.seenUp.has(frame)) return
      this.seenUp.add(frame)
      if (this.selects(processor)) this.emitFrame(frame, processor, UP, alone)
    } else if (this.wanted[DOWN] === 1 && (this.paths === undefined || this.selects(processor))) this.emitFrame(frame, processor, DOWN, alone)
  }

  steps(frames: readonly Frame[], names: readonly string[], count: number): void {
    if (count === 0 || this.wanted[DOWN] !== 1 || this.ended || this.attached.length === 0) return
    if (this.early !== undefined && this.runtime.start === undefined) {
      for (let j = 0; j < count; j++) this.frame(frames[j] as Frame, names[j] as string, 'down')
      return
    }
    const log = this.log
    const paths = this.paths
    if (log.written >= this.open) {
      this.skipSteps(frames, names, 0, count)
      return
    }
    const time = now()
    for (let j = 0; j < count; j++) {
      const name = names[j] as string
      if (paths !== undefined && !this.selects(name)) continue
      if (log.written >= this.open) {
        this.skipSteps(frames, names, j, count)
        break
      }
      log.frame(frames[j] as Frame, name, DOWN, time)
    }
    if (!this.scheduled) this.schedule()
  }

  /** {@link ObserverHub.skip} for the frames that left the steps `from` to `count - 1` of a fused run. */
  private skipSteps(frames: readonly Frame[], names: readonly string[], from: number, count: number): void {
    if (this.selectAll) {
      this.unrecorded += count - from
      return
    }
    const paths = this.paths
    if (paths === undefined) {
      for (const { queue } of this.attached) queue.skipSteps(frames, names, from, count, DOWN)
      return
    }
    for (let j = from; j < count; j++) {
      const name = names[j] as string
      if (this.selects(name)) this.skip(frames[j] as Frame, name, DOWN)
    }
  }

  full(): boolean {
    return this.log.written >= this.open && this.selectAll && this.wanted[DOWN] === 1 && !this.ended && this.attached.length > 0 && (this.early === undefined || this.runtime.start !== undefined)
  }

  stepsDropped(count: number): void {
    this.unrecorded += count
  }

  /** A frame the task accepted as input. */
  input(frame: Frame): void {
    if (this.wanted[INPUT] === 1) this.emitFrame(frame, this.name, INPUT)
  }

  /** A frame that left the task at the sink. */
  output(frame: Frame): void {
    if (this.wanted[OUTPUT] === 1) this.emitFrame(frame, this.name, OUTPUT)
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

  private emitFrame(frame: Frame, processor: string, code: number, alone = false): void {
    if (this.ended || this.attached.length === 0) return
    if (this.early !== undefined && this.runtime.start === undefined) {
      this.early.push({ type: 'frame', task: this.name, session: this.session, frame, processor, direction: code === UP ? 'up' : 'down', at: code === INPUT ? 'input' : code === OUTPUT ? 'output' : 'processor', time: now() })
      return
    }
    if (this.log.written >= this.open) {
      this.skip(frame, processor, code)
      return
    }
    this.log.frame(frame, processor, code, alone ? nowAlone() : now())
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
    if (event.type === 'frame') this.log.frame(event.frame, event.processor, eventCode(event.direction, event.at), event.time)
    else this.log.lifecycle(event)
    if (!this.scheduled) this.schedule()
  }
}
