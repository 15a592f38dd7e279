/**
 * A running stage of a pipeline: the iterator of one processor over its source, guarded so that
 *
 * - an exception thrown by the processor becomes an `error` frame sent upstream (naming the processor) and the
 *   processor is started again on the rest of its input (a processor that throws before reading anything, or throws
 *   a fatal error, ends instead, with a fatal error frame);
 * - an abort caused by an interruption restarts the processor quietly on the rest of its input;
 * - once the run is cancelled, an exception ends the stage quietly;
 * - when the processor finishes, or its consumer returns early, its source is closed (teardown reaches every stage).
 *
 * The processor reads its source through a view whose `return()` (called by `for await` on exit) does not close the
 * shared source, so a restarted processor continues where the failed one stopped.
 * @module
 */
import { isAbortLike, isFatal } from '../errors.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import type { Context } from './context.js'
import type { ProcessorFn } from './processor.js'
import { closeQuietly, settleWithin } from '../internal/close.js'
import { macrotask } from '../internal/turn.js'
import { describeValue, isFrameShaped } from '../internal/frame-shape.js'
import { existingLedger, ledgerOf } from '../interruption/ledger.js'
import { isInterruptible } from '../interruption/uninterruptible.js'
import type { Runtime } from './runtime.js'
import { watchSlowInterruption } from './slow-interruption.js'

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
/** What {@link Stage.rawResult} returns for a value that is not a frame (reported; ask again on a later turn). */
export const NOT_A_FRAME: unique symbol = Symbol('not a frame')
const DONE_PROMISE = (): Promise<IteratorReturnResult<undefined>> => Promise.resolve(DONE)
const ignore = (): void => {}

/**
 * An async iterator that can also hand over a result that is already available, without an async hop:
 * `tryNext()` returns it, or `undefined` when the caller must await `next()`. Implemented by the library's own
 * iterators (channels, stages, fused stages) so that a consumer takes every queued frame in one hop.
 */
export interface SyncPull<T> {
  tryNext(): IteratorResult<T> | undefined
}

/**
 * A library iterator that can hand over a value that is available now without a result object: `tryValue()` returns
 * it, or `undefined` when none is available now — then `tryNext()` tells whether the iterator is done or must be
 * awaited. Implemented by the task's input queue and the source view over it, so that a fused stage reading the
 * input allocates nothing per frame on the way in.
 */
export interface ValuePull<T> {
  tryValue(): T | undefined
}

/**
 * An iterator that tells its reader when it hands over a value (`onDeliver` is called at that moment). The library's
 * own iterators (stages, channels, branch inputs) implement it, so that a stage learns the interruption epoch of
 * every frame its processor reads without an extra async hop.
 */
export interface DeliveryHooked<T> {
  onDeliver: ((value: T) => void) | undefined
}

function hasDeliveryHook(it: object): it is DeliveryHooked<Frame> {
  return 'onDeliver' in it
}

/** The processor's view of its source. Reading it ends the processor's previous unit of work (see `pinnedSignal`). */
class SourceView implements AsyncIterableIterator<Frame>, SyncPull<Frame>, ValuePull<Frame> {
  closed = false
  pulls = 0
  /** The upstream stage when there is one: read through `read()`, which teardown can end. */
  private readonly stage: Stage | undefined
  /** The interruption epoch in which the processor last read a frame (its current work answers that epoch). */
  readEpoch: number
  /** True while a read is in flight: whatever it returns is read after any interruption that comes meanwhile. */
  pending = false
  /** True while the stage is still busy with a turn that was interrupted (the ledger waits for it). */
  lagging = false
  /** Stops the slow-interruption timer of the current lag, if one runs. */
  stopWatch: (() => void) | undefined
  private readonly hooked: boolean
  private readonly runtime: Runtime
  readonly delivered = (): void => {
    this.pending = false
    this.readEpoch = this.runtime.interruptEpoch
    if (this.lagging) this.catchUp()
  }
  private readonly deliveredResult = (r: IteratorResult<Frame>): IteratorResult<Frame> => {
    if (r.done !== true) this.delivered()
    return r
  }

  constructor(
    private readonly upstream: AsyncIterator<Frame>,
    private readonly ctx: Context,
    private readonly owner: object,
  ) {
    this.stage = upstream instanceof Stage ? upstream : undefined
    this.runtime = ctx.runtime
    this.readEpoch = ctx.runtime.interruptEpoch
    this.hooked = hasDeliveryHook(upstream)
    if (this.hooked) (upstream as unknown as DeliveryHooked<Frame>).onDeliver = this.delivered
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.closed) return DONE_PROMISE()
    this.pulls++
    if (this.ctx.pinnedSignal !== undefined) this.ctx.pinnedSignal = undefined
    this.pending = true
    const stage = this.stage
    // An upstream stage reports the hand-over itself (onDeliver); a foreign source does not: learn the moment from the
    // result (one more hop, only there).
    if (stage !== undefined) return stage.read()
    return this.hooked ? this.upstream.next() : this.upstream.next().then(this.deliveredResult)
  }

  /** {@link ValuePull}: the upstream's value when it can hand one over without a result object, else `tryNext()`. */
  tryValue(): Frame | undefined {
    const up = this.upstream as AsyncIterator<Frame> & Partial<ValuePull<Frame>>
    if (this.closed || up.tryValue === undefined) {
      const r = this.tryNext()
      return r === undefined || r.done === true ? undefined : r.value
    }
    if (this.ctx.pinnedSignal !== undefined) this.ctx.pinnedSignal = undefined
    const value = up.tryValue()
    if (value !== undefined) {
      this.pulls++
      if (!this.hooked) this.delivered()
    }
    return value
  }

  tryNext(): IteratorResult<Frame> | undefined {
    if (this.closed) return DONE
    if (this.ctx.pinnedSignal !== undefined) this.ctx.pinnedSignal = undefined
    const up = this.upstream as AsyncIterator<Frame> & Partial<SyncPull<Frame>>
    if (up.tryNext === undefined) return undefined
    const r = up.tryNext()
    if (r !== undefined) {
      this.pulls++
      if (!this.hooked && r.done !== true) this.delivered()
    }
    return r
  }

  return(): Promise<IteratorResult<Frame>> {
    this.closed = true
    this.catchUp()
    return DONE_PROMISE()
  }

  /** The stage has moved on from an interrupted turn. */
  catchUp(): void {
    if (!this.lagging) return
    this.lagging = false
    this.stopWatch?.()
    this.stopWatch = undefined
    existingLedger(this.runtime)?.caughtUp(this.owner)
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

/** Describes a thrown value for an error frame. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message === '' ? err.name : err.message
  try {
    return String(err)
  } catch {
    return 'unknown error'
  }
}

/**
 * A guarded running processor; see the module documentation.
 *
 * Stale output (interruption epochs): an interruption starts a new epoch. A data or app frame the processor hands
 * over while the epoch of the input it last read is older than the run's (it answers input read before the
 * interruption) is dropped here, counted by the run's delivery ledger, and the processor is asked for its next output
 * at once: a processor that ignores its signal delays nothing and leaks nothing. Frames marked uninterruptible,
 * control and system frames always pass. The check compares two numbers already at hand.
 *
 * A processor that reads and produces concurrently (a pump reading its source while another loop yields) has always
 * just read something, so its last read says nothing about what it yields: it states the epoch of the input each
 * frame answers with `stampEpoch`, and the older of that and the last read's epoch decides.
 */
export class Stage implements AsyncIterableIterator<Frame>, SyncPull<Frame>, DeliveryHooked<Frame> {
  private view!: SourceView
  /** Called when this stage hands a frame to its consumer (see {@link DeliveryHooked}). */
  onDeliver: ((value: Frame) => void) | undefined
  private inner!: AsyncIterator<Frame>
  private epoch = 0
  private finished = false
  /** True while the processor has handed over an output and is suspended until it is asked for the next. */
  private atYield = false
  /**
   * Settles the `read()` waiting for the processor's next output. Set while a read is pending; `return()` settles it
   * with `done` at once, so a processor parked on this stage is released even when this stage's processor never
   * answers (and can run its own `finally`).
   */
  private settle: ((r: IteratorResult<Frame> | PromiseLike<IteratorResult<Frame>>) => void) | undefined
  private pending: Promise<IteratorResult<Frame>> | undefined
  private readonly offInterrupt: () => void
  /** False when the processor reports its own outputs to observers (a fused stage reports each step's). */
  private tapOutput = true
  private readonly runtime: Runtime
  private readonly onResult = (r: IteratorResult<Frame>): IteratorResult<Frame> | Promise<IteratorResult<Frame>> => {
    if (r.done === true) this.complete()
    else if (!isFrameShaped(r.value)) return this.skipNonFrame(r.value).then(this.again)
    else if (this.isStale(r.value)) return this.next()
    else this.handedOver(r.value, true)
    return r
  }
  private readonly onError = (err: unknown): IteratorResult<Frame> | Promise<IteratorResult<Frame>> =>
    this.recover(err) ? this.next() : DONE
  private readonly again = (): Promise<IteratorResult<Frame>> => this.next()
  private readonly request = (resolve: (r: IteratorResult<Frame> | PromiseLike<IteratorResult<Frame>>) => void): void => {
    this.settle = resolve
    this.pull()
  }
  private readonly onReadResult = (r: IteratorResult<Frame>): void => {
    const settle = this.settle
    if (settle === undefined) return
    if (r.done === true) this.complete()
    else if (!isFrameShaped(r.value)) {
      void this.skipNonFrame(r.value).then(this.pullAgain)
      return
    } else if (this.isStale(r.value)) {
      this.pull()
      return
    } else this.handedOver(r.value, true)
    this.settle = undefined
    this.pending = undefined
    settle(r)
  }
  private readonly onReadError = (err: unknown): void => {
    if (this.settle === undefined) return
    if (this.recover(err)) this.pull()
    else this.done()
  }
  private readonly pullAgain = (): void => {
    if (this.settle !== undefined) this.pull()
  }
  private readonly readAgain = (): Promise<IteratorResult<Frame>> => this.read()

  constructor(
    private readonly processor: ProcessorFn<any, any>,
    private readonly upstream: AsyncIterator<Frame>,
    private readonly ctx: Context,
  ) {
    const runtime = ctx.runtime
    this.runtime = runtime
    // A processor suspended at a `yield` when an interruption comes resumes work of before the interruption: it must
    // see the aborted signal (and stop at its next abortable await) even if it reads `ctx.signal` only then.
    this.offInterrupt = runtime.onInterrupt(() => {
      if (this.atYield) ctx.pinnedSignal = runtime.interruptedSignal
      const view = this.view
      // A read in flight returns what comes after the interruption; otherwise the processor's current work (and any
      // output it hands over until it reads again) answers the interrupted turn.
      if (view.pending) view.readEpoch = runtime.interruptEpoch
      else if (!view.lagging && !this.finished) {
        view.lagging = true
        ledgerOf(runtime).lag(this)
        const watch = runtime.slowInterruption
        // Waiting for its consumer at a yield is not holding the interruption: only work on old input is.
        if (watch !== undefined) view.stopWatch = watchSlowInterruption(watch, ctx.name, () => view.lagging && !this.atYield && !this.finished)
      }
    })
    this.launch()
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.finished) return DONE_PROMISE()
    this.atYield = false
    let step: Promise<IteratorResult<Frame>>
    try {
      step = this.inner.next()
    } catch (err) {
      // An iterator whose next() throws instead of rejecting.
      return Promise.resolve(this.onError(err))
    }
    return step.then(this.onResult, this.onError)
  }

  /**
   * `next()` for a processor reading this stage (its `SourceView`): the same result, through a promise that `return()`
   * can settle (`done`) while the processor of this stage has not answered. The library's own consumers (the task's
   * driver, the pumps of `parallel`, fused stages, buffers) use `next()`: they stop on their own once torn down.
   */
  read(): Promise<IteratorResult<Frame>> {
    if (this.finished) return DONE_PROMISE()
    // A second read while one is pending waits its turn, as it would on a generator.
    if (this.pending !== undefined) return this.pending.then(this.readAgain, this.readAgain)
    const p = new Promise<IteratorResult<Frame>>(this.request)
    if (this.settle !== undefined) this.pending = p
    return p
  }

  /**
   * The processor's next output if it is available without waiting (only processors whose iterator supports
   * `tryNext`, i.e. fused stages, ever have one), else `undefined`: call `next()`.
   */
  tryNext(): IteratorResult<Frame> | undefined {
    if (this.finished) return DONE
    if (this.pending !== undefined) return undefined
    const inner = this.inner as AsyncIterator<Frame> & Partial<SyncPull<Frame>>
    if (inner.tryNext === undefined) return undefined
    for (;;) {
      this.atYield = false
      const r = inner.tryNext()
      if (r === undefined) return undefined
      if (r.done === true) {
        this.complete()
        return r
      }
      if (!isFrameShaped(r.value)) {
        this.reportNonFrame(r.value)
        continue
      }
      if (this.isStale(r.value)) continue
      this.handedOver(r.value, false)
      return r
    }
  }

  /**
   * For a consumer that is this stage's guard itself (the pumps of `parallel`, the puller of `run()`): the processor's
   * own `next()` promise, without the reaction `next()` adds to catch its failure. The consumer awaits it inside its
   * own `try`, then hands the outcome to {@link Stage.rawResult} or {@link Stage.rawError}: errors are still reported
   * naming this stage, and only this stage restarts. May throw (an iterator whose `next()` throws): that is a failure
   * of the processor too.
   * @internal
   */
  rawNext(): Promise<IteratorResult<Frame>> {
    if (this.finished) return DONE_PROMISE()
    this.atYield = false
    return this.inner.next()
  }

  /**
   * What became of a result of {@link Stage.rawNext}: the result to hand on, `undefined` when it was dropped (stale
   * output: ask again at once), or `NOT_A_FRAME` when the processor produced a value that is not a frame (reported;
   * ask again on a later turn of the event loop, so a processor producing nothing else cannot starve timers).
   * @internal
   */
  rawResult(r: IteratorResult<Frame>): IteratorResult<Frame> | undefined | typeof NOT_A_FRAME {
    if (r.done === true) {
      this.complete()
      return r
    }
    if (!isFrameShaped(r.value)) {
      this.reportNonFrame(r.value)
      return NOT_A_FRAME
    }
    if (this.isStale(r.value)) return undefined
    this.handedOver(r.value, true)
    return r
  }

  /**
   * A failure of {@link Stage.rawNext}: reported (or quiet, see the class documentation); true when the processor was
   * started again (ask again), false when the stage is over (treat as `done`).
   * @internal
   */
  rawError(err: unknown): boolean {
    return this.recover(err)
  }

  /**
   * True (and the frame is counted by the run's delivery ledger) when `frame` is stale: a data or app frame handed
   * over while the epoch of the input the processor last read, or the epoch the processor stated for the frame
   * (`stampEpoch`), is older than the run's (see the class documentation).
   */
  private isStale(frame: Frame): boolean {
    const runtime = this.runtime
    let epoch = this.view.readEpoch
    const stamps = runtime.epochStamps
    if (stamps !== undefined) {
      // A processor that reads and produces concurrently states the epoch of the input a frame answers: the older of
      // the two decides (a stamp can only make a frame stale, never fresh).
      const stated = stamps.get(frame)
      if (stated !== undefined) {
        stamps.delete(frame)
        if (stated < epoch) epoch = stated
      }
    }
    if (epoch === runtime.interruptEpoch || !isInterruptible(frame)) return false
    ledgerOf(runtime).stale(frame, epoch)
    return true
  }

  /**
   * Teardown from downstream: a pending `next()` ends at once (`done`), the processor's iterator is returned (its
   * `finally` runs) and the source is closed, both at the same time, so a stage next to one that never returns is
   * still finalized. Resolves once both are closed, or after the run's `cancelTimeoutMs`, whichever comes first.
   * Never pulls the processor.
   */
  return(): Promise<IteratorResult<Frame>> {
    if (this.finished && this.settle === undefined) return DONE_PROMISE()
    this.finished = true
    this.offInterrupt()
    this.done()
    this.view.catchUp()
    // The source is being closed: a processor still running (e.g. a pump of its own) reads nothing more from it.
    this.view.closed = true
    const closing: Promise<unknown>[] = []
    const inner = this.inner
    if (typeof inner.return === 'function') {
      closing.push(
        Promise.resolve()
          .then(() => inner.return?.())
          .then(ignore, (err: unknown) => this.report(err, false)),
      )
    }
    closing.push(this.closeUpstream())
    return settleWithin(Promise.all(closing), this.ctx.runtime.cancelTimeoutMs).then(DONE_PROMISE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** Asks the processor for its next output for the pending `read()`; the result arrives in `onReadResult`. */
  private pull(): void {
    this.atYield = false
    let step: Promise<IteratorResult<Frame>>
    try {
      step = this.inner.next()
    } catch (err) {
      // An iterator whose next() throws instead of rejecting.
      this.onReadError(err)
      return
    }
    step.then(this.onReadResult, this.onReadError)
  }

  /**
   * Reports a value that is not a frame (it never travels on); resolves on a later turn of the event loop, when the
   * processor is asked for its next output, so a processor yielding nothing but bad values cannot starve timers.
   */
  private skipNonFrame(value: unknown): Promise<void> {
    this.reportNonFrame(value)
    return macrotask()
  }

  /**
   * The processor handed over `frame` and is suspended until asked for the next; observers see it leave. `alone` when
   * the frame arrived in a job of its own (an awaited result), not in a synchronous batch.
   */
  private handedOver(frame: Frame, alone: boolean): void {
    this.atYield = true
    this.onDeliver?.(frame)
    const tap = this.ctx.runtime.tap
    if (tap !== undefined && this.tapOutput) tap.frame(frame, this.ctx.name, 'down', alone)
  }

  /** Settles the pending request (if any) with `done`. */
  private done(): void {
    const settle = this.settle
    if (settle === undefined) return
    this.settle = undefined
    this.pending = undefined
    settle(DONE)
  }

  private launch(): void {
    this.view?.catchUp()
    this.view = new SourceView(this.upstream, this.ctx, this)
    this.epoch = this.ctx.runtime.interruptEpoch
    this.atYield = false
    this.ctx.pinnedSignal = undefined
    try {
      const out = this.processor(this.view, this.ctx)
      if (out === null || typeof out !== 'object' || typeof out[Symbol.asyncIterator] !== 'function') {
        throw new TypeError(`processor ${this.ctx.name} did not return an AsyncIterable`)
      }
      this.inner = out[Symbol.asyncIterator]()
      this.tapOutput = (this.inner as { observesItself?: unknown }).observesItself !== true
    } catch (err) {
      const failure = err
      this.inner = { next: () => Promise.reject(failure) }
    }
  }

  private complete(): void {
    if (this.finished) return
    this.finished = true
    this.offInterrupt()
    this.view.catchUp()
    void this.closeUpstream()
  }

  private closeUpstream(): Promise<void> {
    return closeQuietly(this.upstream)
  }

  private report(err: unknown, fatal: boolean): void {
    if (this.ctx.runtime.cancelled && isAbortLike(err)) return
    this.ctx.pushUpstream(errorFrame(errorMessage(err), { fatal, processor: this.ctx.name, cause: err }))
  }

  private reportNonFrame(value: unknown): void {
    this.ctx.pushUpstream(
      errorFrame(`${this.ctx.name} yielded ${describeValue(value)}, which is not a frame; it was dropped`, {
        processor: this.ctx.name,
        cause: new TypeError(`${this.ctx.name} yielded a value that is not a frame`),
      }),
    )
  }

  /** Handles an exception of the processor; true when the processor was started again and must be pulled. */
  private recover(err: unknown): boolean {
    if (this.finished) return false
    const runtime = this.ctx.runtime
    if (runtime.cancelled) {
      this.complete()
      return false
    }
    const interrupted = isAbortLike(err) && runtime.interruptEpoch !== this.epoch
    if (!interrupted) {
      const fatal = isFatal(err) || this.view.pulls === 0
      this.report(err, fatal)
      if (fatal) {
        this.complete()
        return false
      }
    }
    if (isExhausted(this.upstream)) {
      // The input is over: starting the processor again would only meet the end of it (and may fail again).
      this.complete()
      return false
    }
    this.launch()
    return true
  }

  /** True once this stage will produce nothing more. */
  get exhausted(): boolean {
    return this.finished
  }
}

/** True when `source` is known to have nothing more to give (a finished stage or a closed, empty channel). */
function isExhausted(source: AsyncIterator<Frame>): boolean {
  return (source as { exhausted?: unknown }).exhausted === true
}

/**
 * Starts one `next()` for a consumer that may be the guard of its source's last stage: with `stage`, that stage's
 * processor is pulled raw ({@link Stage.rawNext}) and the outcome goes to `onRawResult` / `onRawError` (which hand it
 * to the stage); without, `source` is pulled and the outcome goes to `onResult` / `onError`. A `next()` that throws
 * counts as a failure of what was pulled.
 * @internal
 */
export function pullOnce<T>(
  source: AsyncIterator<T>,
  stage: Stage | undefined,
  onResult: (r: IteratorResult<T>) => void,
  onError: (err: unknown) => void,
  onRawResult: (r: IteratorResult<Frame>) => void,
  onRawError: (err: unknown) => void,
): void {
  if (stage === undefined) {
    let step: Promise<IteratorResult<T>>
    try {
      step = source.next()
    } catch (err) {
      onError(err)
      return
    }
    step.then(onResult, onError)
    return
  }
  let raw: Promise<IteratorResult<Frame>>
  try {
    raw = stage.rawNext()
  } catch (err) {
    onRawError(err)
    return
  }
  raw.then(onRawResult, onRawError)
}
