/**
 * What observers see: frames leaving processors, frames entering and leaving the task, and the task's lifecycle.
 * @module
 */
import type { ErrorFrame, Frame, FrameKind, StartFrame } from '../frames/types.js'

/**
 * Which way a frame travels: `'down'` towards the sink, `'up'` towards the source.
 * @example
 * ```ts
 * import type { FlowDirection } from 'apipeline-ts'
 * const arrow = (d: FlowDirection) => (d === 'down' ? '↓' : '↑')
 * ```
 */
export type FlowDirection = 'down' | 'up'

/**
 * Where a frame was seen: `'input'` when the task accepted it (`queueFrame`, `stopWhenDone`, a `run()` input),
 * `'processor'` when it left a processor, `'output'` when it left the task at the sink.
 * @example
 * ```ts
 * import type { FrameEvent } from 'apipeline-ts'
 * const atSink = (e: FrameEvent) => e.at === 'output'
 * ```
 */
export type FramePoint = 'input' | 'processor' | 'output'

/**
 * A frame seen by an observer.
 * @example
 * ```ts
 * import type { FrameEvent } from 'apipeline-ts'
 * const line = (e: FrameEvent) => `${e.time.toFixed(1)} ms ${e.processor} ${e.direction} ${e.frame.name}`
 * ```
 */
export interface FrameEvent {
  readonly type: 'frame'
  /** The task's name. */
  readonly task: string
  /** A number unique to the observed task within the process (two tasks may share a name). */
  readonly session: number
  readonly frame: Frame
  /**
   * The path-qualified name of the processor the frame left, e.g. `PipelineTask#0/parallel/branch1/tts`; for
   * `'input'` and `'output'`, the task's name.
   */
  readonly processor: string
  readonly direction: FlowDirection
  readonly at: FramePoint
  /** When it was seen, in ms on the `performance.now()` clock. */
  readonly time: number
}

/**
 * The task started: its `start` frame is about to enter the pipeline.
 * @example
 * ```ts
 * import type { StartedEvent } from 'apipeline-ts'
 * const wall = (e: StartedEvent) => new Date(e.wallClock).toISOString()
 * ```
 */
export interface StartedEvent {
  readonly type: 'started'
  readonly task: string
  readonly session: number
  readonly time: number
  /** `Date.now()` at the same instant as `time`, to map the monotonic clock to wall-clock time. */
  readonly wallClock: number
  readonly start: StartFrame
}

/**
 * The task was interrupted (`task.interrupt()` or an upstream `interruptionTask`).
 * @example
 * ```ts
 * import type { ObserverEvent } from 'apipeline-ts'
 * const isInterruption = (e: ObserverEvent) => e.type === 'interrupted'
 * ```
 */
export interface InterruptedEvent {
  readonly type: 'interrupted'
  readonly task: string
  readonly session: number
  readonly time: number
}

/**
 * The task finished, with its status (and the fatal error of an `'errored'` task). Always the last event.
 * @example
 * ```ts
 * import type { EndedEvent } from 'apipeline-ts'
 * const failed = (e: EndedEvent) => e.status === 'errored'
 * ```
 */
export interface EndedEvent {
  readonly type: 'ended'
  readonly task: string
  readonly session: number
  readonly time: number
  readonly status: 'ended' | 'stopped' | 'cancelled' | 'errored'
  readonly error?: ErrorFrame
}

/**
 * A task lifecycle event.
 * @example
 * ```ts
 * import type { LifecycleEvent } from 'apipeline-ts'
 * const label = (e: LifecycleEvent) => (e.type === 'ended' ? `ended: ${e.status}` : e.type)
 * ```
 */
export type LifecycleEvent = StartedEvent | InterruptedEvent | EndedEvent

/**
 * Everything an observer receives.
 * @example
 * ```ts
 * import type { ObserverEvent } from 'apipeline-ts'
 * const frames = (events: ObserverEvent[]) => events.filter((e) => e.type === 'frame').length
 * ```
 */
export type ObserverEvent = FrameEvent | LifecycleEvent

/**
 * What an observer selects of a task's frame events (the selection options of an {@link ObserverObject}); a field left
 * out selects everything. `{ at: [] }` selects no frame event at all: only the lifecycle events come.
 * @example
 * ```ts
 * import type { ObserverSelection } from 'apipeline-ts'
 * const endsOnly: ObserverSelection = { at: ['input', 'output'] }
 * const lifecycleOnly: ObserverSelection = { at: [] }
 * ```
 */
export interface ObserverSelection {
  readonly at?: readonly FramePoint[]
  readonly processors?: readonly string[]
  readonly kinds?: readonly FrameKind[]
  readonly directions?: readonly FlowDirection[]
}

/**
 * The task an observer is attached to, as given to {@link ObserverObject.runTask}.
 * @example
 * ```ts
 * import type { ObservedTask } from 'apipeline-ts'
 * const label = (t: ObservedTask) => `${t.name} (#${t.session})`
 * // A tracer whose sampler dropped this session: only the lifecycle events from now on.
 * const unsampled = (t: ObservedTask) => t.select({ at: [] })
 * ```
 */
export interface ObservedTask {
  readonly name: string
  readonly session: number
  /**
   * Replaces what this observer selects of this task, from now on (events recorded before that it no longer selects
   * are skipped). What the task records follows what its observers select: with no observer wanting the frames
   * leaving processors, the stages are not tapped at all. Throws a `TypeError` for an invalid selection.
   */
  select(selection: ObserverSelection): void
}

/**
 * An observer given as an object: a name (used in stats and error reports), its queue capacity, what it selects and
 * its handler (`onEvent` for one event at a time, or `onEvents` for batches).
 * @example
 * ```ts
 * import type { ObserverObject } from 'apipeline-ts'
 * const counter: ObserverObject & { count: number } = {
 *   name: 'counter',
 *   count: 0,
 *   onEvent(e) { if (e.type === 'frame') this.count++ },
 * }
 * ```
 */
export interface ObserverObject {
  /** Display name in stats and error reports. Default `observer<n>`. */
  readonly name?: string
  /**
   * Events kept for this observer while it is behind. Beyond that, while another observer still has room, its oldest
   * events are dropped; once every observer is full, the task stops recording and new events are dropped. Either way
   * each dropped event the observer selects is counted in its stats. Default 16384.
   */
  readonly capacity?: number
  /**
   * Only frame events seen at these points (`'input'`, `'processor'`, `'output'`). Default: all. Lifecycle events
   * always come. When no attached observer wants `'processor'` events, the task does not record them at all.
   */
  readonly at?: readonly FramePoint[]
  /**
   * Only the frames leaving these processors, given by their path below the task as `describe()` names them
   * (`'llm'`, `'fan/branch1/tts'`); a path also selects everything below it (`'fan'`). Default: every processor.
   * Input and output events are chosen by `at`. Processors no attached observer selects are not recorded.
   */
  readonly processors?: readonly string[]
  /** Only frames of these kinds. Default: all. */
  readonly kinds?: readonly FrameKind[]
  /** Only frames travelling this way. Default: both. Upstream frames no attached observer wants are not recorded. */
  readonly directions?: readonly FlowDirection[]
  /**
   * Receives the events in order, on a later turn of the event loop than the one that produced them. A returned
   * promise is awaited before the next event is delivered (events arriving meanwhile queue, up to `capacity`).
   */
  onEvent?(event: ObserverEvent): void | PromiseLike<void>
  /**
   * Receives the events in batches instead of one by one (used instead of `onEvent` when both are given): a view of
   * the events queued since the last batch, read through accessors, so no event object is made unless `event(i)` asks
   * for one. The view is valid only during the call (copy what you keep). A returned promise is awaited before the
   * next batch.
   */
  onEvents?(batch: EventBatch): void | PromiseLike<void>
  /**
   * Optional: runs the task's work (`run()`), e.g. inside an async context of the observer's own. Called only for
   * observers given when the task is created (the `observe` option), once, synchronously. Must call `run` once and
   * return its result.
   */
  runTask?<T>(task: ObservedTask, run: () => T): T
}

/**
 * A batch of events handed to {@link ObserverObject.onEvents}: event `i` (0 ≤ i < `length`) through accessors. The
 * frame accessors (`frame`, `processor`, `direction`, `at`) are meant for frame events (`type(i) === 'frame'`).
 * Valid only during the call that received it.
 * @example
 * ```ts
 * import type { EventBatch, ObserverObject } from 'apipeline-ts'
 * let texts = 0
 * const counter: ObserverObject = {
 *   name: 'texts',
 *   at: ['output'],
 *   onEvents(batch: EventBatch) {
 *     for (let i = 0; i < batch.length; i++) if (batch.type(i) === 'frame' && batch.frame(i).type === 'text') texts++
 *   },
 * }
 * ```
 */
export interface EventBatch {
  /** The task's name. */
  readonly task: string
  /** The task's session number. */
  readonly session: number
  /** Events in the batch. */
  readonly length: number
  /** The type of event `i`. */
  type(i: number): ObserverEvent['type']
  /** Event `i` as an object (made by this call). */
  event(i: number): ObserverEvent
  /** When event `i` happened (ms, `performance.now()` clock). */
  time(i: number): number
  /** The frame of frame event `i`. */
  frame(i: number): Frame
  /** The processor of frame event `i` (see {@link FrameEvent.processor}). */
  processor(i: number): string
  /** The direction of frame event `i`. */
  direction(i: number): FlowDirection
  /** Where frame event `i` was seen. */
  at(i: number): FramePoint
}

/**
 * A plain function observer.
 * @example
 * ```ts
 * import type { ObserverFunction } from 'apipeline-ts'
 * const log: ObserverFunction = (e) => { if (e.type !== 'frame') console.log(e.type) }
 * ```
 */
export type ObserverFunction = (event: ObserverEvent) => void | PromiseLike<void>

/**
 * An observer: a function or an {@link ObserverObject}.
 * @example
 * ```ts
 * import { run, type Observer } from 'apipeline-ts'
 * const log: Observer = (e) => console.log(e.type)
 * run(bot, input, { observe: [log, { name: 'quiet', onEvent: () => {} }] })
 * ```
 */
export type Observer = ObserverFunction | ObserverObject

/**
 * How an observer kept up.
 * @example
 * ```ts
 * import type { ObserverStats } from 'apipeline-ts'
 * const lossy = (s: ObserverStats) => s.dropped > 0
 * ```
 */
export interface ObserverStats {
  readonly name: string
  /** Events handed to the observer. */
  readonly delivered: number
  /** Events it selects that it did not get because its queue was full (counted exactly, also while nothing is recorded). */
  readonly dropped: number
  /** Events waiting now. */
  readonly queued: number
  /** The most events that ever waited at once. */
  readonly maxQueued: number
  /** Times the observer threw (or its promise rejected); only the first is reported. */
  readonly failures: number
  /** The message of the first failure. */
  readonly firstError?: string
}

/**
 * An attached observer.
 * @example
 * ```ts
 * const handle = task.observe((e) => console.log(e.type))
 * await task.run()
 * await handle.idle()
 * console.log(handle.stats().dropped)
 * ```
 */
export interface ObserverHandle {
  readonly name: string
  /** Its counters. */
  stats(): ObserverStats
  /**
   * Replaces what the observer selects, from now on (as {@link ObservedTask.select}): e.g. widen an observer of the
   * task's input and output to every processor while something is investigated, and narrow it back after.
   */
  select(selection: ObserverSelection): void
  /** Stops delivering events (those still queued are discarded). */
  detach(): void
  /** Resolves once every queued event has been delivered (or the observer was detached). */
  idle(): Promise<void>
}
