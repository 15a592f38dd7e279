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
import type { Processor } from './processor.js'
import { closeQuietly } from '../internal/close.js'
import { existingLedger, ledgerOf } from '../interruption/ledger.js'
import { isInterruptible } from '../interruption/uninterruptible.js'
import type { Runtime } from './runtime.js'

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
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
class SourceView implements AsyncIterableIterator<Frame>, SyncPull<Frame> {
  closed = false
  pulls = 0
  /** The interruption epoch in which the processor last read a frame (its current work answers that epoch). */
  readEpoch: number
  /** True while a read is in flight: whatever it returns is read after any interruption that comes meanwhile. */
  pending = false
  /** True while the stage is still busy with a turn that was interrupted (the ledger waits for it). */
  lagging = false
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
    this.runtime = ctx.runtime
    this.readEpoch = ctx.runtime.interruptEpoch
    this.hooked = hasDeliveryHook(upstream)
    if (this.hooked) (upstream as unknown as DeliveryHooked<Frame>).onDeliver = this.delivered
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.closed) return DONE_PROMISE()
    this.pulls++
    this.ctx.pinnedSignal = undefined
    this.pending = true
    // A foreign source does not report deliveries: learn the moment from the result (one more hop, only there).
    return this.hooked ? this.upstream.next() : this.upstream.next().then(this.deliveredResult)
  }

  tryNext(): IteratorResult<Frame> | undefined {
    if (this.closed) return DONE
    this.ctx.pinnedSignal = undefined
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
  private readonly offInterrupt: () => void
  private readonly runtime: Runtime
  private readonly onResult = (r: IteratorResult<Frame>): IteratorResult<Frame> | Promise<IteratorResult<Frame>> => {
    if (r.done === true) {
      this.complete()
      return r
    }
    if (this.view.readEpoch !== this.runtime.interruptEpoch && isInterruptible(r.value)) return this.dropStale(r.value)
    this.atYield = true
    this.onDeliver?.(r.value)
    return r
  }
  private readonly onError = (err: unknown): Promise<IteratorResult<Frame>> | IteratorResult<Frame> =>
    this.recover(err)

  constructor(
    private readonly processor: Processor<any, any>,
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
      }
    })
    this.launch()
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.finished) return DONE_PROMISE()
    this.atYield = false
    return this.inner.next().then(this.onResult, this.onError)
  }

  /**
   * The processor's next output if it is available without waiting (only processors whose iterator supports
   * `tryNext`, i.e. fused stages, ever have one), else `undefined`: call `next()`.
   */
  tryNext(): IteratorResult<Frame> | undefined {
    if (this.finished) return DONE
    const inner = this.inner as AsyncIterator<Frame> & Partial<SyncPull<Frame>>
    if (inner.tryNext === undefined) return undefined
    for (;;) {
      this.atYield = false
      const r = inner.tryNext()
      if (r === undefined) return r
      if (r.done === true) {
        this.complete()
        return r
      }
      if (this.view.readEpoch !== this.runtime.interruptEpoch && isInterruptible(r.value)) {
        this.recordStale(r.value)
        continue
      }
      this.atYield = true
      this.onDeliver?.(r.value)
      return r
    }
  }

  /** Drops a stale output (see the class documentation) and asks the processor for its next one. */
  private dropStale(frame: Frame): Promise<IteratorResult<Frame>> {
    this.recordStale(frame)
    return this.next()
  }

  private recordStale(frame: Frame): void {
    ledgerOf(this.runtime).stale(frame, this.view.readEpoch)
  }

  /** Teardown from downstream: returns the processor's iterator and closes the source. */
  return(): Promise<IteratorResult<Frame>> {
    if (this.finished) return DONE_PROMISE()
    this.finished = true
    this.offInterrupt()
    this.view.catchUp()
    // The source is being closed: a processor still running (e.g. a pump of its own) reads nothing more from it.
    this.view.closed = true
    const pending: Promise<unknown>[] = []
    const inner = this.inner
    if (typeof inner.return === 'function') {
      pending.push(
        Promise.resolve()
          .then(() => inner.return?.())
          .then(ignore, (err: unknown) => this.report(err, false)),
      )
    }
    pending.push(this.closeUpstream())
    return Promise.all(pending).then(DONE_PROMISE)
  }

  [Symbol.asyncIterator](): this {
    return this
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

  private recover(err: unknown): Promise<IteratorResult<Frame>> | IteratorResult<Frame> {
    if (this.finished) return DONE
    const runtime = this.ctx.runtime
    if (runtime.cancelled) {
      this.complete()
      return DONE
    }
    const interrupted = isAbortLike(err) && runtime.interruptEpoch !== this.epoch
    if (!interrupted) {
      const fatal = isFatal(err) || this.view.pulls === 0
      this.report(err, fatal)
      if (fatal) {
        this.complete()
        return DONE
      }
    }
    if (isExhausted(this.upstream)) {
      // The input is over: starting the processor again would only meet the end of it (and may fail again).
      this.complete()
      return DONE
    }
    this.launch()
    return this.next()
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
