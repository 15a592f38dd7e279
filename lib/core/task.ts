/**
 * `PipelineTask`: runs a processor with the full lifecycle — `start` first, `end` drains and is last, cancel and
 * stop through methods, frames or an `AbortSignal`, errors reported upstream, fatal errors end the task.
 * @module
 */
import { CancelledError } from '../errors.js'
import * as F from '../frames/constructors.js'
import { isFrame } from '../frames/guards.js'
import type { ErrorFrame, Frame, StartFrame, StartParams } from '../frames/types.js'
import { describe } from '../frames/validate.js'
import { Channel, type InputSource } from '../internal/channel.js'
import { Context } from './context.js'
import { pipeline } from './pipeline.js'
import { assertProcessor, type ProcessorFn } from './processor.js'
import { Runtime } from './runtime.js'
import { closeQuietly } from '../internal/close.js'
import { macrotask } from '../internal/turn.js'
import { warnSlowInterruption, type SlowInterruptionHandler, type SlowInterruptionWatch } from './slow-interruption.js'
import type { Observer, ObserverHandle, ObserverStats } from '../observe/events.js'
import { ObserverHub, observerList } from '../observe/hub.js'
import { ledgerOf, type DeliveryLedger } from '../interruption/ledger.js'
import { markerOn, type DeliveryMarker } from '../interruption/delivery.js'
import { isInterruptible } from '../interruption/uninterruptible.js'
import type { DeliveryHooked } from './stage.js'
import { FRAMES_PER_TURN, OutputPuller } from './output-puller.js'

/** How a task ended. */
export type TaskStatus = 'ended' | 'stopped' | 'cancelled' | 'errored'

/** What `PipelineTask.run()` resolves with. */
export interface TaskResult {
  readonly status: TaskStatus
  /** For `'errored'`: the fatal error frame. */
  readonly error?: ErrorFrame
  /** Non-fatal error frames that reached the task (the last 100). */
  readonly errors: readonly ErrorFrame[]
}

/** Parameters of a task: the `start` frame's parameters plus how the task runs. */
export interface PipelineParams extends Partial<StartParams> {
  /** With `enableMetrics`, send a metrics frame listing every measuring processor with zeros after `start`. Default true. */
  readonly sendInitialEmptyMetrics?: boolean
  /** Frames the input queue holds before `queueFrame` waits. Default 64. */
  readonly inputCapacity?: number
  /** Frames the output iterable holds before the pipeline waits for its reader. Default 64. */
  readonly outputCapacity?: number
  /** How long cancel/stop/end wait for processors that ignore the signal, in ms. Default 1000. */
  readonly cancelTimeoutMs?: number
  /** Aborting it cancels the task. */
  readonly signal?: AbortSignal
  /** Sees every frame that reaches the top of the pipeline (before the task reacts to it). */
  readonly onUpstream?: (frame: Frame) => void
  /** Display name; default `PipelineTask#<n>`. */
  readonly name?: string
  /** Observers of the task's frames and lifecycle (see `PipelineTask.observe`). */
  readonly observe?: Observer | readonly Observer[]
  /**
   * After an interruption, a stage that has neither read its source again nor handed over an output for this long (in
   * ms) is busy with work of before the interruption (it ignores `ctx.signal`): `onSlowInterruption` is told, naming
   * it. Default 50; `0` turns the warning off.
   */
  readonly slowInterruptionMs?: number
  /** Receives the slow-interruption warnings. Default `warnSlowInterruption` (`console.warn`, silent in production). */
  readonly onSlowInterruption?: SlowInterruptionHandler
}

let taskCount = 0

const MAX_ERRORS = 100

function slowInterruptionWatch(params: PipelineParams): { slowInterruption?: SlowInterruptionWatch } {
  const ms = params.slowInterruptionMs
  if (ms !== undefined && (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0)) {
    throw new TypeError(`slowInterruptionMs must be an integer >= 0, got ${describe(ms)}`)
  }
  const report = params.onSlowInterruption
  if (report !== undefined && typeof report !== 'function') throw new TypeError('onSlowInterruption must be a function')
  if (ms === 0) return {}
  return { slowInterruption: { thresholdMs: ms ?? 50, report: report ?? warnSlowInterruption } }
}

function positiveInt(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${where} must be an integer >= 1, got ${describe(value)}`)
  }
  return value
}

/**
 * Runs a processor as a task: the seed's imperative API.
 *
 * Lifecycle: `start` (built from the params) is the first frame; frames given to `queueFrame` follow in order
 * (system frames jump ahead of queued ones); `stopWhenDone()` queues `end`, which drains every stage and is the last
 * frame out; `cancel()` and `stop()` end at once (queued input is dropped, `ctx.signal` aborts, every processor's
 * `finally` runs; one that ignores the signal is cut off after `cancelTimeoutMs`).
 *
 * Frames reaching the top of the pipeline: a fatal `error` ends the task `'errored'`, `end` ends it gracefully,
 * `cancel` cancels, `stopTask` stops, `interruptionTask` interrupts.
 *
 * @example
 * ```ts
 * const task = new PipelineTask(pipeline(upper), { allowInterruptions: true })
 * const output = task.frames()            // attach a reader before awaiting run()
 * await task.queueFrames([Frames.text('hi')])
 * task.stopWhenDone()
 * const [result] = await Promise.all([task.run(), (async () => { for await (const f of output) log(f) })()])
 * result.status // 'ended'
 * ```
 */
export class PipelineTask<I extends Frame = Frame, O extends Frame = Frame> {
  readonly name: string
  readonly params: PipelineParams
  private readonly processor: ProcessorFn<any, any>
  private readonly runtime: Runtime
  private readonly input: Channel<Frame>
  private readonly startFrame: StartFrame
  private output: Channel<Frame> | undefined
  private state: 'idle' | 'running' | 'done' = 'idle'
  private inputClosed = false
  private terminal: { status: TaskStatus; error?: ErrorFrame } | undefined
  private readonly errors: ErrorFrame[] = []
  private deadline: ReturnType<typeof setTimeout> | undefined
  private tearingDown = false
  private iterator: AsyncIterator<Frame> | undefined
  private resolveResult!: (r: TaskResult) => void
  private readonly resultPromise: Promise<TaskResult>
  private removeSignalListener: (() => void) | undefined
  private root: Context | undefined
  private finalResult: TaskResult | undefined
  private hub: ObserverHub | undefined
  /** The run's delivery ledger (only when interruptions are allowed). */
  private readonly ledger: DeliveryLedger | undefined
  /** Ids of `startInterruption` frames sent straight to the output whose copy travelling the pipeline is still to come. */
  private readonly owedStarts = new Set<number>()
  /** Ids of `startInterruption` frames not sent ahead (the reader had not taken `start` yet): their copy must go out. */
  private readonly unsentStarts = new Set<number>()
  /** The interruption epoch in which the pipeline handed over the frame the driver holds. */
  private outEpoch = 0
  /** True once the output's reader has taken `start` (nothing may overtake it). */
  private startOut = false
  /** True once the pipeline handed over `end`: what follows is dropped, the run only drains. */
  private endSeen = false
  /**
   * Pull mode (`run()`): there is no driver; the output's reader pulls the pipeline itself (see {@link pullNext}).
   * Undefined in push mode.
   */
  private puller: OutputPuller | undefined

  constructor(processor: ProcessorFn<I, O>, params: PipelineParams = {}) {
    assertProcessor('PipelineTask(processor)', processor)
    if (params === null || typeof params !== 'object') throw new TypeError('PipelineTask(params) must be an object')
    this.processor = processor
    this.params = params
    this.name = params.name ?? `PipelineTask#${taskCount++}`
    this.startFrame = F.start(params)
    this.runtime = new Runtime({
      cancelTimeoutMs: positiveInt('cancelTimeoutMs', params.cancelTimeoutMs, 1000),
      ...slowInterruptionWatch(params),
    })
    this.input = new Channel<Frame>(positiveInt('inputCapacity', params.inputCapacity, 64))
    positiveInt('outputCapacity', params.outputCapacity, 64)
    this.resultPromise = new Promise((resolve) => {
      this.resolveResult = resolve
    })
    for (const observer of observerList(params.observe)) this.observe(observer)
    if (this.startFrame.allowInterruptions) {
      const ledger = ledgerOf(this.runtime)
      this.ledger = ledger
      ledger.onReport = (frame) => this.onReport(frame)
    }
    const signal = params.signal
    if (signal !== undefined) {
      if (signal.aborted) this.cancel()
      else {
        const onAbort = (): void => void this.cancel()
        signal.addEventListener('abort', onAbort, { once: true })
        this.removeSignalListener = () => signal.removeEventListener('abort', onAbort)
      }
    }
  }

  /**
   * Attaches an observer: from now on it receives every frame leaving each processor, the frames entering and
   * leaving the task, and the lifecycle events, through a bounded queue of its own (a slow observer loses events,
   * counted in its stats; it never slows the task). An observer that throws is reported once as a non-fatal error.
   * @example
   * ```ts
   * const handle = task.observe((e) => { if (e.type === 'frame') console.log(e.processor, e.frame.name) })
   * await task.run()
   * await handle.idle()
   * ```
   */
  observe(observer: Observer): ObserverHandle {
    this.hub ??= new ObserverHub(this.name, this.runtime, (frame) => this.onUpstreamFrame(frame))
    return this.hub.attach(observer)
  }

  /** The stats of the attached observers. */
  observerStats(): ObserverStats[] {
    return this.hub?.stats() ?? []
  }

  /** Resolves once every attached observer has received every event queued for it so far. */
  observersIdle(): Promise<void> {
    return this.hub?.idle() ?? Promise.resolve()
  }

  /** The parameters of the `start` frame this task sends. */
  get start(): StartFrame {
    return this.startFrame
  }

  /** True once `run()` has resolved (or the task was cancelled before it ran). */
  hasFinished(): boolean {
    return this.state === 'done'
  }

  /**
   * False once the task takes no more input: after `end` was queued, and from the moment it is cancelled, stopped or
   * its reader broke off (while its stages are still being closed). A feeder stops reading its source then, so a fast
   * source is never pulled for frames that would only be dropped.
   * @example
   * ```ts
   * for (const frame of input) {
   *   if (!task.acceptsInput()) break
   *   await task.queueFrame(frame)
   * }
   * ```
   */
  acceptsInput(): boolean {
    return !this.inputClosed && this.state !== 'done'
  }

  /**
   * Queues `frame`. Resolves once it is in the input queue (waits while the queue is full). `end` closes the input;
   * frames queued after it are dropped, as are frames queued after the task finished. `cancel`, `stopTask` and
   * `interruptionTask` act at once; other system frames jump ahead of queued frames; a second `start` is dropped.
   * Rejects with a `TypeError` for a value that is not a frame.
   */
  queueFrame(frame: Frame): Promise<void> {
    try {
      return this.offer(frame) ?? Promise.resolve()
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Like {@link queueFrame} without the promise when there is room: returns `undefined` once `frame` is queued, or a
   * promise to await while the queue is full. Throws a `TypeError` for a value that is not a frame.
   * @example
   * ```ts
   * for (const frame of [Frames.text('a'), Frames.text('b')]) {
   *   const wait = task.pushFrame(frame)
   *   if (wait) await wait
   * }
   * ```
   */
  pushFrame(frame: Frame): Promise<void> | undefined {
    return this.offer(frame)
  }

  /**
   * Queues every frame of an iterable or async iterable, in order, waiting whenever the queue is full. The frames of a
   * synchronous iterable (an array) that fit are queued before the call returns, so frames queued by the calls that
   * follow (`queueFrame`, `stopWhenDone`) come after them even when the returned promise is not awaited.
   * @example
   * ```ts
   * await task.queueFrames([Frames.text('a'), Frames.text('b'), Frames.end()])
   * ```
   */
  async queueFrames(frames: Iterable<Frame> | AsyncIterable<Frame>): Promise<void> {
    if (frames === null || typeof frames !== 'object' || !(Symbol.iterator in frames || Symbol.asyncIterator in frames)) {
      throw new TypeError('queueFrames(frames) needs an iterable or async iterable of frames')
    }
    if (Symbol.asyncIterator in frames) {
      for await (const frame of frames) {
        if (this.inputClosed) return
        const wait = this.offer(frame)
        if (wait !== undefined) await wait
      }
      return
    }
    // A synchronous iterable is read without a hop per frame: only a full input queue is waited for.
    for (const frame of frames) {
      if (this.inputClosed) return
      const wait = this.offer(frame)
      if (wait !== undefined) await wait
    }
  }

  /** Queues `end`: the task ends once everything queued before it has been processed. */
  stopWhenDone(): void {
    this.offer(F.end())
  }

  /** Cancels the task (status `'cancelled'`); resolves with the result once it has finished. */
  cancel(): Promise<TaskResult> {
    this.terminate('cancelled')
    return this.resultPromise
  }

  /** Stops the task without draining (status `'stopped'`); resolves with the result once it has finished. */
  stop(): Promise<TaskResult> {
    this.terminate('stopped')
    return this.resultPromise
  }

  /**
   * Interrupts: only when `allowInterruptions` is set. The current `ctx.signal` aborts (a fresh one follows),
   * buffered stages drop their queued data frames, and `startInterruption` is sent ahead of queued input.
   * Returns false when interruptions are not allowed or the task is over.
   */
  interrupt(): boolean {
    if (!this.startFrame.allowInterruptions || this.terminal !== undefined || this.state === 'done') return false
    this.runtime.interrupt()
    this.hub?.interrupted()
    const frame = this.runtime.interruption ?? F.startInterruption()
    this.input.pushPriority(frame)
    if (this.state === 'running') this.ledger?.sent()
    // The sink learns of the interruption at once, ahead of anything produced after it, even when a stage in the
    // middle is busy and not reading its source; the copy travelling the pipeline is not emitted a second time.
    const out = this.output
    if (out !== undefined && this.startOut && this.state === 'running' && !out.exhausted) {
      const ledger = this.ledger
      for (const dropped of out.removeWhere(isInterruptible)) ledger?.dropped(dropped, this.runtime.interruptEpoch - 1)
      out.pushPriority(frame)
      this.owedStarts.add(frame.id)
    } else this.unsentStarts.add(frame.id)
    this.ledger?.sync()
    return true
  }

  /**
   * How many frames were dropped as stale so far: frames a stage handed over after an interruption in answer to input
   * it read before it (see the README section "Interruptions").
   */
  get staleFrames(): number {
    return this.ledger?.staleDropped ?? 0
  }

  /**
   * Delivery marks for the reader of {@link frames} when taking a frame is not yet its delivery: a transport that
   * writes each frame to a socket marks it delivered once written (`accept(frame)` when taken, `delivered(frame)` once
   * written, `release()` when done). While the marker is active, taking a frame no longer counts as its delivery, and
   * frames accepted but never marked delivered count as dropped in the interruption report. Records nothing when the
   * task does not allow interruptions.
   * @example
   * ```ts
   * declare const ws: { send(data: string, written: (err?: Error) => void): void }
   * const marks = task.deliveryMarker()
   * try {
   *   for await (const frame of task.frames()) {
   *     if (!marks.accept(frame)) continue
   *     ws.send(JSON.stringify(frame), (err) => { if (err === undefined) marks.delivered(frame) })
   *   }
   * } finally {
   *   marks.release()
   * }
   * ```
   */
  deliveryMarker(): DeliveryMarker {
    const ledger = this.ledger
    return markerOn(() => ledger)
  }

  /** Sends an interruption report upstream from the end of the pipeline: every stage's upstream handlers, then the task. */
  private onReport(frame: Frame): void {
    const root = this.root
    if (root === undefined || this.state === 'done') this.onUpstreamFrame(frame)
    else root.deliverUpstream(frame, (f) => this.onUpstreamFrame(f))
  }

  /**
   * The frames that reach the end of the pipeline, as an async iterable with backpressure (a slow reader slows the
   * pipeline). Call it before awaiting `run()`; frames produced while no reader is attached are dropped. Breaking out
   * of the loop cancels the task. One reader only.
   */
  frames(): AsyncIterable<O> {
    return this.openOutput() as AsyncIterable<Frame> as AsyncIterable<O>
  }

  /**
   * The output for `run()`: its reader pulls the pipeline itself (no driver; see `OutputPuller`), through
   * {@link pullNext} whenever the returned queue is empty. Call before `run()`; with an observer that has `runTask` the
   * task drives as usual.
   * @internal
   */
  pulledFrames(): Channel<Frame> {
    const out = this.openOutput()
    // The task is the puller's host (its methods, not closures per task: the puller's calls stay monomorphic).
    this.puller = new OutputPuller(this, out)
    return out
  }

  /**
   * For the reader of {@link pulledFrames}, when the output queue is empty: the next frame if the pipeline has one
   * ready now, else `undefined` (a pull is under way; wait on the queue). Push mode: always `undefined`.
   * @internal
   */
  pullNext(): IteratorResult<Frame> | undefined {
    return this.state === 'running' ? this.puller?.next() : undefined
  }

  /**
   * For `run()` over a synchronous iterable: instead of a feeder copying the input into the input queue, `source` is
   * read whenever the pipeline takes from an empty input queue: it hands over the next input frame ({@link inputNow})
   * or ends the input (`stopWhenDone`) synchronously. The input is read only as fast as the pipeline asks for it.
   * @internal
   */
  readInputOnDemand(source: InputSource<Frame>): void {
    this.input.refill = source
  }

  /**
   * For the reader given to {@link readInputOnDemand}: `frame`, just read from the input while the input queue is
   * empty, is queued as by {@link pushFrame} — except a data or app frame, which is returned to be handed to the
   * pipeline at once (it would only pass through the empty queue). Throws a `TypeError` for a value that is not a frame.
   * @internal
   */
  inputNow(frame: Frame): Frame | undefined {
    if (!isFrame(frame)) throw new TypeError(`${this.name}: queueFrame() needs a frame, got ${describe(frame)}`)
    if (this.inputClosed) return undefined
    if (frame.kind === 'data' || frame.kind === 'app') {
      this.hub?.input(frame)
      return frame
    }
    void this.offer(frame)
    return undefined
  }

  private openOutput(): Channel<Frame> {
    if (this.output !== undefined) throw new TypeError(`${this.name}: frames() can be called once`)
    const out = new Channel<Frame>(positiveInt('outputCapacity', this.params.outputCapacity, 64))
    out.onReturn = () => {
      if (this.state !== 'done') this.terminate('cancelled')
    }
    const ledger = this.ledger
    // The reader taking a frame is its delivery (unless a sink inside the pipeline marks deliveries itself).
    // `start` taken by the reader: from now on an interruption's startInterruption may go straight to the output.
    if (ledger !== undefined) {
      out.onDeliver = (frame) => {
        if (frame.kind === 'control' && frame.type === 'start') this.startOut = true
        else if (!ledger.claimed) ledger.delivered(frame)
      }
    }
    this.output = out
    if (this.state === 'done') out.close()
    return out
  }

  [Symbol.asyncIterator](): AsyncIterator<O> {
    return this.frames()[Symbol.asyncIterator]()
  }

  /** Runs the task; resolves (never rejects) with how it ended. Calling it again returns the same promise. */
  run(): Promise<TaskResult> {
    if (this.state !== 'idle') return this.resultPromise
    this.state = 'running'
    const root = new Context(this.runtime, this.name, (frame) => this.onUpstreamFrame(frame))
    this.root = root
    this.runtime.upstreamSink = (frame) => this.onUpstreamFrame(frame)
    try {
      const top = pipeline(this.processor)
      this.iterator = top(this.input, root)[Symbol.asyncIterator]()
    } catch (err) {
      this.fail(F.error(err instanceof Error ? err : String(err), { fatal: true, processor: this.name, cause: err }))
      this.finish()
      return this.resultPromise
    }
    const first: Frame[] = [this.startFrame]
    if (this.startFrame.enableMetrics && this.params.sendInitialEmptyMetrics !== false) {
      const zeros = this.runtime.metricsProcessors.map((processor) => ({ processor, value: 0 }))
      first.push(F.metrics({ ttfb: zeros, processing: zeros }))
    }
    for (let i = first.length - 1; i >= 0; i--) this.input.unshiftFirst(first[i] as Frame)
    this.runtime.start = this.startFrame
    const hub = this.hub
    hub?.started(this.startFrame, first)
    // Pull mode (run()) also when observed; an observer that runs the task's work in a context of its own (`runTask`)
    // needs the driver, whose every step starts inside that context.
    if (this.puller !== undefined && hub?.wrapsTask() !== true) {
      this.hookOutput(this.iterator)
      this.puller.begin(this.iterator)
    } else {
      this.puller = undefined
      if (hub === undefined) void this.drive()
      else hub.runTask(() => void this.drive())
    }
    return this.resultPromise
  }

  /** Stores `frame` in the input; returns a promise when it must wait for room. */
  private offer(frame: Frame): Promise<void> | undefined {
    if (!isFrame(frame)) throw new TypeError(`${this.name}: queueFrame() needs a frame, got ${describe(frame)}`)
    if (this.inputClosed) return undefined
    this.hub?.input(frame)
    if (frame.kind === 'system') {
      switch (frame.type) {
        case 'cancel':
          this.terminate('cancelled')
          return undefined
        case 'stopTask':
          this.terminate('stopped')
          return undefined
        case 'interruptionTask':
          this.interrupt()
          return undefined
        default:
          this.input.pushPriority(frame)
          return undefined
      }
    }
    if (frame.kind === 'control') {
      if (frame.type === 'start') return undefined
      if (frame.type === 'end') {
        this.inputClosed = true
        const wait = this.input.push(frame)
        this.input.close()
        return wait
      }
    }
    return this.input.push(frame)
  }

  /**
   * Delivers `frame` to the task as if it had reached the top of the pipeline: `onUpstream` sees it, and the task
   * reacts (fatal `error` → errored, `end` → graceful end, `cancel`, `stopTask`, `interruptionTask`).
   */
  handleUpstream(frame: Frame): void {
    if (!isFrame(frame)) throw new TypeError(`${this.name}: handleUpstream() needs a frame, got ${describe(frame)}`)
    this.onUpstreamFrame(frame)
  }

  private onUpstreamFrame(frame: Frame): void {
    try {
      this.params.onUpstream?.(frame)
    } catch (err) {
      this.recordError(F.error(err instanceof Error ? err : String(err), { processor: `${this.name}.onUpstream`, cause: err }))
    }
    if (frame.kind !== 'system') {
      if (frame.kind === 'control' && frame.type === 'end') this.stopWhenDone()
      return
    }
    switch (frame.type) {
      case 'error':
        if (frame.fatal) this.fail(frame)
        else this.recordError(frame)
        break
      case 'cancel':
        this.terminate('cancelled')
        break
      case 'stopTask':
        this.terminate('stopped')
        break
      case 'interruptionTask':
        this.interrupt()
        break
      default:
        break
    }
  }

  private recordError(frame: ErrorFrame): void {
    this.errors.push(frame)
    if (this.errors.length > MAX_ERRORS) this.errors.shift()
  }

  private fail(frame: ErrorFrame): void {
    this.terminate('errored', frame)
  }

  private terminate(status: TaskStatus, error?: ErrorFrame): void {
    if (this.stopping()) return
    this.terminal = error === undefined ? { status } : { status, error }
    this.runtime.cancel(new CancelledError(`${this.name} ${status === 'errored' ? 'failed' : status}`))
    // Queued input is dropped; a stage reading the input sees its end.
    this.inputClosed = true
    this.input.abort()
    if (this.state === 'idle') {
      this.finish()
      return
    }
    this.teardown()
  }

  /**
   * Closes the pipeline: every stage is returned (its `finally` runs), none is pulled again. The task finishes once
   * every stage has closed, or after `cancelTimeoutMs` when one ignores the signal (only that one is cut off).
   */
  private teardown(): void {
    if (this.tearingDown || this.state === 'done') return
    this.tearingDown = true
    this.armDeadline()
    const it = this.iterator
    if (it === undefined || typeof it.return !== 'function') {
      this.finish()
      return
    }
    void closeQuietly(it).then(() => this.finish())
  }

  private armDeadline(): void {
    if (this.deadline !== undefined || this.state === 'done') return
    this.deadline = setTimeout(() => {
      this.deadline = undefined
      this.finish()
    }, this.runtime.cancelTimeoutMs)
  }

  /**
   * True when the `startInterruption` frame the pipeline handed over is the travelling copy of one already sent
   * straight to the output. A copy is recognised by its id: the copy of an interruption that was not sent ahead goes
   * out even when a later one was (copies of several interruptions can still be on their way). A frame a stage built
   * itself (an id of none of them) stands for the oldest interruption sent ahead whose copy is still to come.
   */
  private isOwedCopy(frame: Frame): boolean {
    if (this.owedStarts.delete(frame.id)) return true
    if (this.unsentStarts.delete(frame.id)) return false
    const oldest = this.owedStarts.values().next()
    if (oldest.done === true) return false
    this.owedStarts.delete(oldest.value)
    return true
  }

  /**
   * True once the task is cancelled, stopped, failed or finished: the driver must not pull any more.
   * @internal
   */
  stopping(): boolean {
    return this.terminal !== undefined || this.state === 'done'
  }

  /** Watches the hand-over of the pipeline's last stage (the interruption epoch of the frame it hands over). */
  private hookOutput(it: AsyncIterator<Frame>): void {
    const runtime = this.runtime
    if (this.ledger !== undefined && 'onDeliver' in it) {
      ;(it as unknown as DeliveryHooked<Frame>).onDeliver = () => {
        this.outEpoch = runtime.interruptEpoch
      }
    }
  }

  /**
   * What happens to a frame the pipeline handed over (push and pull mode alike): true when it goes to the output.
   * Stale output and a `startInterruption` already sent ahead are dropped, so is everything after `end`.
   * @internal
   */
  accept(frame: Frame): boolean {
    if (this.endSeen) return false
    const ledger = this.ledger
    if (ledger !== undefined) {
      // Handed over by the pipeline just before an interruption: stale (see Stage).
      if (this.outEpoch !== this.runtime.interruptEpoch && isInterruptible(frame)) {
        ledger.stale(frame, this.outEpoch)
        return false
      }
      if (frame.kind === 'system') {
        if (frame.type === 'startInterruption') ledger.arrived()
        if (frame.type === 'startInterruption' && this.isOwedCopy(frame)) return false
        if (frame.type === 'stopInterruption') ledger.newTurn()
      }
    }
    if (frame.kind === 'control' && frame.type === 'end') {
      this.endSeen = true
      ledger?.arrived(true)
      // Everything has drained; give stages a bounded time to leave their loops.
      this.armDeadline()
    }
    this.hub?.output(frame)
    return true
  }

  /**
   * The pipeline is exhausted: the task ends (noting a pipeline that never passed `end`).
   * @internal
   */
  drained(): void {
    if (!this.endSeen && this.terminal === undefined) {
      // The pipeline finished without passing `end` to the task: a stage dropped it, or stopped reading early.
      this.recordError(
        F.error(`the pipeline finished without passing end: a stage dropped it or stopped reading its input early`, {
          processor: this.name,
        }),
      )
    }
    this.finish()
  }

  /**
   * Something escaped the stages (a broken source): the task fails.
   * @internal
   */
  broke(err: unknown): void {
    // Stages report their own errors; anything escaping them ends the task.
    if (this.stopping()) return
    if (!this.runtime.cancelled) {
      this.fail(F.error(err instanceof Error ? err : String(err), { fatal: true, processor: this.name, cause: err }))
      return
    }
    this.drained()
  }

  private async drive(): Promise<void> {
    const it = this.iterator as AsyncIterator<Frame> & { tryNext?: () => IteratorResult<Frame> | undefined }
    // Fused stages hand over what is already available without a hop: take it all, await only when nothing is.
    const pull = typeof it.tryNext === 'function' ? it.tryNext : undefined
    this.hookOutput(it)
    let sinceTurn = 0
    try {
      for (;;) {
        const r = pull?.call(it) ?? (await it.next())
        // Once the task is cancelled or stopped, teardown owns the stages: nothing is pulled any more.
        if (this.stopping()) return
        if (r.done === true) break
        const frame = r.value
        // Frames that are always ready never leave the microtask queue: give timers and I/O a turn every so often.
        if (++sinceTurn >= FRAMES_PER_TURN) {
          sinceTurn = 0
          await macrotask()
          if (this.stopping()) return
        }
        if (!this.accept(frame)) continue
        const out = this.output
        if (out !== undefined) {
          const wait = out.push(frame)
          if (wait !== undefined) {
            await wait
            if (this.stopping()) return
          }
        }
      }
    } catch (err) {
      this.broke(err)
      return
    }
    this.drained()
  }

  private finish(): void {
    if (this.state === 'done') return
    this.ledger?.finish()
    this.state = 'done'
    if (this.deadline !== undefined) {
      clearTimeout(this.deadline)
      this.deadline = undefined
    }
    this.removeSignalListener?.()
    this.removeSignalListener = undefined
    this.inputClosed = true
    this.input.abort()
    this.runtime.cancel()
    // Whatever has not closed yet (no-op when the pipeline completed) is closed; never waited for.
    if (!this.tearingDown) void closeQuietly(this.iterator)
    this.output?.close()
    const status = this.terminal?.status ?? 'ended'
    const result: TaskResult =
      this.terminal?.error !== undefined
        ? { status, error: this.terminal.error, errors: [...this.errors] }
        : { status, errors: [...this.errors] }
    this.finalResult = result
    this.hub?.finished(status, result.error)
    this.resolveResult(result)
  }

  /** The result once the task has finished, else undefined. */
  get result(): TaskResult | undefined {
    return this.finalResult
  }
}
