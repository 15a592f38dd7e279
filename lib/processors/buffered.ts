/**
 * `buffer()` and `buffered(processor)`: the seed's asynchronous processor. A bounded queue decouples a producer
 * from its consumer: everything before the queue runs ahead of everything after it, by at most `capacity` frames.
 *
 * How each frame kind is treated by the queue:
 *
 * | frame | treatment |
 * |---|---|
 * | data, app, control (`start`, `end`, `sync`, …) | one FIFO lane, bounded by `capacity`: a control frame never overtakes data; `end` is queued in order, so the queue drains before it passes |
 * | system (`metrics`, `error`, `stopInterruption`, …) | a priority lane, ahead of everything queued (FIFO among system frames); also read while the queue is full |
 * | `startInterruption` / `interruption` (with `allowInterruptions`) | queued data and app frames are dropped (reported to `onDrop` and to the run's delivery ledger); the frame goes to the priority lane. Queued control frames and frames marked uninterruptible are **kept**, in order, behind it |
 * | `cancel`, `stopTask` (and a cancelled run) | everything queued in the FIFO lane is dropped (including `end`); the frame goes to the priority lane |
 *
 * On an interruption of the run (`runtime.interrupt()`, called by `PipelineTask.interrupt()`), queued data and app
 * frames are dropped at once, before the `startInterruption` frame arrives: a producer blocked on the full queue is
 * released, reads on and meets the `startInterruption` frame, which drops anything queued in between and jumps ahead.
 * `end` and `cancel` are never dropped by an interruption.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { pipeline } from '../core/pipeline.js'
import { assertProcessor, withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import { error as errorFrame, startInterruption } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { Channel } from '../internal/channel.js'
import { closeQuietly } from '../internal/close.js'
import { stampEpoch } from '../interruption/epoch-stamp.js'
import { readEpochOf } from '../interruption/read-epoch.js'
import { ledgerOf } from '../interruption/ledger.js'
import { isInterruptible } from '../interruption/uninterruptible.js'
import { yielded } from '../internal/yielded.js'

/** Why queued frames were dropped. */
export type DropReason = 'interruption' | 'cancel'

/** Options of {@link buffer} and {@link buffered}. */
export interface BufferOptions {
  /** Frames the FIFO lane holds before the producer waits (integer >= 1). Default 64. */
  readonly capacity?: number
  /**
   * Which queued data and app frames an interruption drops. Default: every data and app frame. Control and system
   * frames are never dropped by an interruption, whatever this returns.
   */
  readonly dropOnInterruption?: (frame: Frame) => boolean
  /** Called with the frames dropped from the queue (by an interruption, or because the run was cancelled). */
  readonly onDrop?: (frames: readonly Frame[], reason: DropReason) => void
  /** Display name of the queue stage. Default `buffer`. */
  readonly name?: string
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
const ADMITTED: unique symbol = Symbol('admitted')
const noop = (): void => {}

const isStart = (frame: Frame): boolean => frame.kind === 'control' && frame.type === 'start'
const dropDataAndApp = isInterruptible

interface Resolved {
  readonly capacity: number
  readonly droppable: (frame: Frame) => boolean
  readonly onDrop: ((frames: readonly Frame[], reason: DropReason) => void) | undefined
}

function resolve(where: string, options: unknown): Resolved & { name: string } {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object`)
  const o = options as BufferOptions
  const capacity = o.capacity ?? 64
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
    throw new TypeError(`${where}: capacity must be an integer >= 1, got ${String(capacity)}`)
  }
  if (o.dropOnInterruption !== undefined && typeof o.dropOnInterruption !== 'function') {
    throw new TypeError(`${where}: dropOnInterruption must be a function`)
  }
  if (o.onDrop !== undefined && typeof o.onDrop !== 'function') throw new TypeError(`${where}: onDrop must be a function`)
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) {
    throw new TypeError(`${where}: name must be a non-empty string`)
  }
  const userDrop = o.dropOnInterruption
  const droppable =
    userDrop === undefined ? dropDataAndApp : (frame: Frame): boolean => dropDataAndApp(frame) && userDrop(frame) === true
  return { capacity, droppable, onDrop: o.onDrop, name: o.name ?? 'buffer' }
}

/** The iterator of an async (or, for convenience, a sync) iterable. */
function iteratorOf(source: AsyncIterable<Frame> | Iterable<Frame>): AsyncIterator<Frame> {
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) return source[Symbol.asyncIterator]()
  if (source !== null && typeof source === 'object' && Symbol.iterator in source) {
    const it = source[Symbol.iterator]()
    return {
      next: () => Promise.resolve(it.next()),
      return: () => Promise.resolve(it.return?.() ?? DONE),
    }
  }
  throw new TypeError('buffer: the source must be an AsyncIterable of frames')
}

/** The consumer side of a buffer; the producer side is the pump started on the first `next()`. */
class BufferIterator implements AsyncIterableIterator<Frame> {
  private readonly channel: Channel<Frame>
  private upstream: AsyncIterator<Frame> | undefined
  private started = false
  private stopped = false
  private sourceDone = false
  /** True once `end` was taken from the source (it is queued, or waiting for room). */
  private endQueued = false
  /** Id of the `startInterruption` frame this queue sent itself after its input ended. */
  private sentInterruption = -1
  private failure: { error: unknown } | undefined
  private allowInterruptions: boolean | undefined
  private offInterrupt: (() => void) | undefined
  private offCancel: (() => void) | undefined
  private readonly afterSourceDone = (r: IteratorResult<Frame>): IteratorResult<Frame> => {
    if (r.done === true) {
      this.cleanup()
      if (this.failure !== undefined) {
        const { error } = this.failure
        this.failure = undefined
        throw error
      }
    }
    return r
  }

  constructor(
    private readonly source: AsyncIterable<Frame>,
    private readonly ctx: ProcessorContext,
    private readonly options: Resolved,
  ) {
    this.channel = new Channel<Frame>(options.capacity)
  }

  next(): Promise<IteratorResult<Frame>> {
    if (!this.started) this.begin()
    const taken = this.channel.next()
    return this.sourceDone ? taken.then(this.afterSourceDone) : taken
  }

  /** A queued frame without an async hop, or `undefined` when the caller must await `next()`. */
  tryNext(): IteratorResult<Frame> | undefined {
    if (!this.started) return undefined
    const taken = this.channel.tryTake()
    return taken === undefined ? undefined : yielded(taken.value)
  }

  /** Teardown from downstream: drops what is queued, stops the pump, closes the source. */
  return(): Promise<IteratorResult<Frame>> {
    if (this.stopped) return Promise.resolve(DONE)
    this.stopped = true
    this.cleanup()
    this.channel.abort()
    void closeQuietly(this.upstream)
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private begin(): void {
    this.started = true
    const runtime = this.ctx.runtime
    this.offInterrupt = runtime.onInterrupt(() => this.onInterrupt())
    this.offCancel = runtime.onCancel(() => this.onCancel())
    if (!runtime.cancelled) void this.pump()
  }

  private cleanup(): void {
    this.offInterrupt?.()
    this.offInterrupt = undefined
    this.offCancel?.()
    this.offCancel = undefined
  }

  private drop(which: (frame: Frame) => boolean, reason: DropReason): void {
    const dropped = this.channel.removeWhere(which)
    if (dropped.length > 0 && reason === 'interruption') {
      const ledger = ledgerOf(this.ctx.runtime)
      for (const frame of dropped) ledger.dropped(frame)
    }
    if (dropped.length === 0 || this.options.onDrop === undefined) return
    try {
      this.options.onDrop(dropped, reason)
    } catch (err) {
      this.ctx.pushUpstream(errorFrame(err instanceof Error ? err : String(err), { processor: this.ctx.name, cause: err }))
    }
  }

  /**
   * True (and the frame is dropped, as stale) when the pump read `frame` before an interruption that came while the
   * frame was on its way into the queue, so the interruption could not find it there. The epoch of the last read is
   * the one the stage's source view recorded when the read was handed over.
   */
  private isStale(frame: Frame): boolean {
    const readEpoch = readEpochOf(this.source)
    const runtime = this.ctx.runtime
    if (readEpoch === undefined || readEpoch === runtime.interruptEpoch) return false
    if (!this.options.droppable(frame) || !this.interruptionsAllowed()) return false
    ledgerOf(runtime).stale(frame, readEpoch)
    if (this.options.onDrop !== undefined) {
      try {
        this.options.onDrop([frame], 'interruption')
      } catch (err) {
        this.ctx.pushUpstream(errorFrame(err instanceof Error ? err : String(err), { processor: this.ctx.name, cause: err }))
      }
    }
    return true
  }

  /**
   * States the epoch in which the pump read `frame` (see `stampEpoch`): the pump reads while the consumer yields, so
   * when an interruption comes as a queued frame is already on its way out (yielded, not yet taken by the stage), the
   * stage still knows it answers input of before the interruption. Only frames an interruption would drop here.
   */
  private stampRead(frame: Frame): void {
    const readEpoch = readEpochOf(this.source)
    if (readEpoch !== undefined && this.options.droppable(frame)) stampEpoch(this.ctx, frame, readEpoch)
  }

  private onInterrupt(): void {
    this.drop(this.options.droppable, 'interruption')
    // Once `end` has entered the queue nothing more can arrive from upstream, so the startInterruption frame the task
    // sends cannot reach it: put the run's frame ahead of what is left. A copy arriving later is dropped (same id).
    if (this.sourceDone || this.endQueued) {
      const frame = this.ctx.runtime.interruption ?? startInterruption()
      if (frame.id !== this.sentInterruption) {
        this.sentInterruption = frame.id
        // `start` stays the first frame out: a `start` still queued moves ahead of the interruption.
        for (const start of this.channel.removeWhere(isStart)) this.channel.pushPriority(start)
        this.channel.pushPriority(frame)
      }
    }
  }

  /**
   * The run is cancelled: queued ordered frames are dropped (reported to `onDrop`), the pump stops reading, and the
   * consumer sees the system frames still queued, then the end. A task closes the stage anyway (`return()`).
   */
  private onCancel(): void {
    this.dropOrdered()
    this.channel.close()
  }

  private dropOrdered(): void {
    this.drop((frame) => frame.kind !== 'system', 'cancel')
  }

  private interruptionsAllowed(): boolean {
    return this.allowInterruptions ?? this.ctx.start?.allowInterruptions === true
  }

  private onSystem(frame: Frame): void {
    if (frame.id === this.sentInterruption) return
    switch (frame.type) {
      case 'startInterruption':
      case 'interruption':
        if (this.interruptionsAllowed()) this.drop(this.options.droppable, 'interruption')
        break
      case 'cancel':
      case 'stopTask':
        this.dropOrdered()
        break
      default:
        break
    }
    this.channel.pushPriority(frame)
  }

  private async pump(): Promise<void> {
    const channel = this.channel
    let pending: Promise<IteratorResult<Frame>> | undefined
    try {
      const it = iteratorOf(this.source)
      this.upstream = it
      const read = (): Promise<IteratorResult<Frame>> => {
        const p = it.next()
        p.catch(noop)
        return p
      }
      const runtime = this.ctx.runtime
      for (;;) {
        // Once the run is cancelled nothing is read any more: teardown closes the source.
        if (pending === undefined && runtime.cancelled) return
        const r = await (pending ?? it.next())
        pending = undefined
        if (this.stopped || runtime.cancelled) return
        if (r.done === true) break
        const frame = r.value
        if (frame.kind === 'system') {
          this.onSystem(frame)
          continue
        }
        if (frame.kind === 'control') {
          if (frame.type === 'start') this.allowInterruptions = frame.allowInterruptions
          else if (frame.type === 'end') this.endQueued = true
        }
        if (this.isStale(frame)) continue
        this.stampRead(frame)
        const wait = channel.push(frame)
        if (wait === undefined) continue
        // The queue is full: keep reading so that system frames jump in at once; the next ordered frame waits.
        const admitted = wait.then(() => ADMITTED)
        for (;;) {
          pending ??= read()
          const got = await Promise.race([admitted, pending])
          if (typeof got === 'symbol' || this.stopped || runtime.cancelled) break
          if (got.done !== true && got.value.kind === 'system') {
            pending = undefined
            this.onSystem(got.value)
            continue
          }
          // Nothing more can arrive from upstream after the end (read, waiting for room).
          if (got.done === true || (got.value.kind === 'control' && got.value.type === 'end')) this.endQueued = true
          // An ordered frame (or the end of the source): keep it for the outer loop once the queue has room.
          await admitted
          break
        }
      }
      if (this.stopped) return
      this.sourceDone = true
      channel.close()
      // A consumer already waiting sees `done` now; otherwise its next reads check for the end (afterSourceDone).
      if (channel.exhausted) this.cleanup()
    } catch (err) {
      if (this.stopped) return
      this.sourceDone = true
      if (channel.size === 0) {
        this.cleanup()
        channel.abort(err)
      } else {
        this.failure = { error: err }
        channel.close()
      }
    }
  }
}

/**
 * A queue stage: decouples what comes before it from what comes after it through a bounded queue. System frames
 * jump the queue; data, app and control frames keep FIFO order; `end` drains the queue; an interruption drops
 * queued data and app frames and puts `startInterruption` ahead. See the module documentation for every frame kind.
 *
 * @example
 * ```ts
 * import { pipeline, buffer, run, Frames } from 'apipeline-ts'
 *
 * // The LLM runs ahead of the (slower) TTS by up to 32 frames; an interruption flushes them.
 * const bot = pipeline(llm, buffer({ capacity: 32 }), tts)
 * for await (const f of run(bot, [Frames.text('hi')], { allowInterruptions: true })) console.log(Frames.format(f))
 * ```
 */
export function buffer(options: BufferOptions = {}): Processor {
  const resolved = resolve('buffer(options)', options)
  const processor: ProcessorFn = (source, ctx) =>
    new BufferIterator(source, asContext(ctx, resolved.name), resolved)
  return withInfo(processor, { name: resolved.name, kind: 'buffer' })
}

/**
 * `processor` running ahead of its consumer: its output goes through a {@link buffer} stage (the queue sits after
 * the processor, like the seed's AsyncFrameProcessor push queue). The processor keeps its own name for errors and
 * metrics; the queue stage is named `options.name` (default `buffer`).
 *
 * @example
 * ```ts
 * import { pipeline, buffered, PipelineTask } from 'apipeline-ts'
 *
 * const task = new PipelineTask(pipeline(buffered(llm, { capacity: 16 }), tts), { allowInterruptions: true })
 * // later, when the user starts speaking:
 * task.interrupt() // llm's ctx.signal aborts, queued words are dropped, startInterruption goes ahead
 * ```
 */
export function buffered<I extends Frame, O extends Frame>(processor: ProcessorFn<I, O>, options: BufferOptions = {}): Processor<I, O | Frame> {
  assertProcessor('buffered(processor)', processor)
  return pipeline(processor as ProcessorFn<any, any>, buffer(options)) as Processor<I, O | Frame>
}
