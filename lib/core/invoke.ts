/**
 * Calling a processor function from anywhere: the one place that turns a {@link ProcessorFn} (async source and a
 * context, what the library runs) into a {@link Processor} (any iterable, a context or not, what the library returns).
 * @module
 */
import { PipelineError } from '../errors.js'
import type { ErrorFrame, Frame } from '../frames/types.js'
import { asContext, Context, detachedContext, type DetachedRun, type ProcessorContext } from './context.js'
import type { ProcessorFn } from './processor.js'
import { NOT_A_FRAME, pullOnce, Stage, type SyncPull } from './stage.js'
import { onNextTurn } from '../internal/turn.js'
import { Waiting } from '../internal/yielded.js'

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
  )
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function'
  )
}

function isProcessorContext(value: object): value is ProcessorContext {
  const v = value as Partial<ProcessorContext>
  return typeof v.pushUpstream === 'function' && typeof v.onUpstream === 'function' && v.runtime !== undefined
}

/** A sync iterable read as an async one: one value per `next()`, `return()` passed on. */
function fromSync<T>(iterable: Iterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = iterable[Symbol.iterator]()
      return {
        next: () => {
          try {
            return Promise.resolve(it.next())
          } catch (err) {
            return Promise.reject(err)
          }
        },
        return: () => {
          try {
            const r = it.return?.()
            return Promise.resolve(r ?? { done: true as const, value: undefined })
          } catch (err) {
            return Promise.reject(err)
          }
        },
      }
    },
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/**
 * The iterator of a detached run's processor output; see {@link surfacing}. One failure listener for the whole
 * iteration and handlers bound once: a `next()` costs the promise it returns and one reaction on the processor's.
 * When the output is a guarded stage (a pipeline's last stage), this iterator is that stage's guard: it awaits the
 * processor's own `next()` raw and hands the outcome to the stage (`rawResult` / `rawError`), so errors are still
 * reported naming the stage and only it restarts, with one promise reaction less per frame.
 */
class SurfacingIterator<O> implements AsyncIterator<O> {
  private closed = false
  /** The pending `next()`: settled by the processor's result, or rejected at once when the run fails. */
  private waiting: Waiting<IteratorResult<O>> | undefined
  /** The promise of the pending `next()`. */
  private current: Promise<IteratorResult<O>> | undefined
  private readonly again = (): Promise<IteratorResult<O>> => this.next()
  private readonly off: () => void
  private readonly sync: (() => IteratorResult<O> | undefined) | undefined
  /** The processor's output when it is a guarded stage: pulled raw, this iterator being its guard. */
  private readonly stage: Stage | undefined
  private readonly request = (resolve: (r: IteratorResult<O>) => void, reject: (err: unknown) => void): void => {
    this.waiting = new Waiting(resolve, reject)
    this.pull()
  }
  /** Asks the processor for the pending `next()`'s result. */
  private readonly pull = (): void => {
    pullOnce(this.inner, this.stage, this.onResult, this.onError, this.onRawResult, this.onRawError)
  }
  private readonly onRawResult = (raw: IteratorResult<Frame>): void => {
    const r = (this.stage as Stage).rawResult(raw)
    if (this.waiting === undefined) return
    // A value that is not a frame was reported: ask again on a later turn (timers keep running); a stale one was
    // dropped: ask again at once.
    if (r === NOT_A_FRAME) onNextTurn(this.pullIfWaiting)
    else if (r === undefined) this.pull()
    else this.onResult(r as IteratorResult<O>)
  }
  private readonly onRawError = (err: unknown): void => {
    const restarted = (this.stage as Stage).rawError(err)
    if (this.waiting === undefined) return
    if (restarted) this.pull()
    else this.onResult(DONE)
  }
  private readonly pullIfWaiting = (): void => {
    if (this.waiting !== undefined) this.pull()
  }
  private readonly onResult = (r: IteratorResult<O>): void => {
    const w = this.waiting
    if (w === undefined) return
    this.waiting = undefined
    this.current = undefined
    const failure = this.run.failure
    if (failure !== undefined) this.failed(failure).catch(w.reject)
    else {
      if (r.done === true && this.owned) this.run.runtime.cancel()
      w.resolve(r)
    }
  }
  private readonly onError = (err: unknown): void => {
    const w = this.waiting
    if (w === undefined) return
    this.waiting = undefined
    this.current = undefined
    if (this.owned) this.run.runtime.cancel()
    w.reject(err)
  }

  constructor(
    private readonly inner: AsyncIterator<O>,
    private readonly run: DetachedRun,
    private readonly owned: boolean,
  ) {
    this.off = run.onFailure((error) => {
      const w = this.waiting
      this.waiting = undefined
      this.current = undefined
      if (w !== undefined) this.failed(error).catch(w.reject)
    })
    const pull = (inner as AsyncIterator<O> & Partial<SyncPull<O>>).tryNext
    this.sync = typeof pull === 'function' ? pull.bind(inner) : undefined
    this.stage = inner instanceof Stage ? inner : undefined
  }

  /** A result already available (fused stages have one), without a hop; an error goes through `next()`. */
  tryNext(): IteratorResult<O> | undefined {
    if (this.run.failure !== undefined || this.closed || this.sync === undefined) return undefined
    const r = this.sync()
    if (r?.done === true && this.owned) this.run.runtime.cancel()
    return r
  }

  next(): Promise<IteratorResult<O>> {
    if (this.run.failure !== undefined) return this.failed(this.run.failure)
    if (this.closed) return Promise.resolve(DONE)
    // A second read while one is pending waits its turn, as it would on a generator.
    if (this.current !== undefined) return this.current.then(this.again, this.again)
    // A result the processor has ready needs no pending read that a failure could reject.
    const ready = this.tryNext()
    if (ready !== undefined) return Promise.resolve(ready)
    const p = new Promise<IteratorResult<O>>(this.request)
    if (this.waiting !== undefined) this.current = p
    return p
  }

  return(): Promise<IteratorResult<O>> {
    if (this.closed) return Promise.resolve(DONE)
    this.closed = true
    this.off()
    const inner = this.inner
    const done = Promise.resolve()
      .then(() => inner.return?.())
      .then(() => DONE)
    if (this.owned) void done.finally(() => this.run.runtime.cancel()).catch(() => {})
    return done
  }

  private failed(error: ErrorFrame): Promise<IteratorResult<O>> {
    this.close()
    return Promise.reject(new PipelineError(error))
  }

  private close(): void {
    if (this.closed) return
    this.closed = true
    this.off()
    if (this.owned) this.run.runtime.cancel()
    const inner = this.inner
    Promise.resolve()
      .then(() => inner.return?.())
      .catch(() => {})
  }
}

/**
 * The output of a detached run's processor: rejects with a `PipelineError` as soon as an error frame reaches the top
 * unhandled (also while a `next()` is pending), and closes the processor then.
 */
function surfacing<O>(output: AsyncIterable<O>, run: DetachedRun, owned: boolean): AsyncIterable<O> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<O> {
      return new SurfacingIterator(output[Symbol.asyncIterator](), run, owned)
    },
  }
}

/**
 * Calls `fn` the way a {@link Processor} may be called: `source` an async or sync iterable; `ctx` a context, nothing
 * (a detached context is created), Node `stream.pipeline`'s `{ signal }` (a detached context cancelled by it), or a
 * foreign `ProcessorContext`. Inside a task (a library `Context` and an async source) it is a plain call.
 */
export function invokeProcessor<I extends Frame, O extends Frame>(
  fn: ProcessorFn<I, O>,
  source: unknown,
  ctx: unknown,
  name: string,
): AsyncIterable<O> {
  if (ctx instanceof Context && ctx.detached === undefined && isAsyncIterable(source)) {
    return fn(source as AsyncIterable<I>, ctx)
  }
  let input: AsyncIterable<I>
  if (isAsyncIterable(source)) input = source as AsyncIterable<I>
  else if (isIterable(source) && typeof source !== 'string') input = fromSync(source as Iterable<I>)
  else throw new TypeError(`${name}: the source must be an Iterable or AsyncIterable of frames, got ${source === null ? 'null' : typeof source}`)

  let context: Context
  let owned = false
  if (ctx instanceof Context) context = ctx
  else if (ctx === undefined || ctx === null) {
    context = detachedContext(name)
    owned = true
  } else if (typeof ctx === 'object' && isProcessorContext(ctx)) context = asContext(ctx, name)
  else if (typeof ctx === 'object' && 'signal' in ctx) {
    // Node's stream.pipeline calls a transform as fn(source, { signal }).
    const signal = (ctx as { signal?: unknown }).signal
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`${name}: options.signal must be an AbortSignal`)
    }
    context = detachedContext(name, signal === undefined ? {} : { signal })
    owned = true
  } else {
    throw new TypeError(`${name}: the second argument must be a ProcessorContext, { signal } or nothing`)
  }
  const output = fn(input, context)
  const run = context.detached
  return run === undefined ? output : surfacing(output, run, owned)
}
