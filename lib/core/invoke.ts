/**
 * Calling a processor function from anywhere: the one place that turns a {@link ProcessorFn} (async source and a
 * context, what the library runs) into a {@link Processor} (any iterable, a context or not, what the library returns).
 * @module
 */
import { PipelineError } from '../errors.js'
import type { ErrorFrame, Frame } from '../frames/types.js'
import { asContext, Context, detachedContext, type DetachedRun, type ProcessorContext } from './context.js'
import type { ProcessorFn } from './processor.js'

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

/**
 * The output of a detached run's processor: rejects with a `PipelineError` as soon as an error frame reaches the top
 * unhandled (also while a `next()` is pending), and closes the processor then.
 */
function surfacing<O>(output: AsyncIterable<O>, run: DetachedRun, owned: boolean): AsyncIterable<O> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<O> {
      const inner = output[Symbol.asyncIterator]()
      let closed = false
      const close = (): void => {
        if (closed) return
        closed = true
        if (owned) run.runtime.cancel()
        Promise.resolve()
          .then(() => inner.return?.())
          .catch(() => {})
      }
      const failed = (error: ErrorFrame): Promise<IteratorResult<O>> => {
        close()
        return Promise.reject(new PipelineError(error))
      }
      const sync = inner as AsyncIterator<O> & { tryNext?: () => IteratorResult<O> | undefined }
      return {
        // A result already available is handed over without a hop (fused stages have one); an error goes through next().
        ...(typeof sync.tryNext === 'function'
          ? {
              tryNext(): IteratorResult<O> | undefined {
                if (run.failure !== undefined || closed) return undefined
                const r = sync.tryNext?.()
                if (r?.done === true && owned) run.runtime.cancel()
                return r
              },
            }
          : {}),
        next(): Promise<IteratorResult<O>> {
          if (run.failure !== undefined) return failed(run.failure)
          if (closed) return Promise.resolve({ done: true, value: undefined })
          return new Promise<IteratorResult<O>>((resolve, reject) => {
            const off = run.onFailure((error) => {
              failed(error).catch(reject)
            })
            inner.next().then(
              (r) => {
                off()
                if (run.failure !== undefined) failed(run.failure).catch(reject)
                else {
                  if (r.done === true && owned) run.runtime.cancel()
                  resolve(r)
                }
              },
              (err: unknown) => {
                off()
                if (owned) run.runtime.cancel()
                reject(err)
              },
            )
          })
        },
        return(): Promise<IteratorResult<O>> {
          if (!closed) {
            closed = true
            const done = Promise.resolve()
              .then(() => inner.return?.())
              .then(
                () => ({ done: true as const, value: undefined }),
                (err: unknown) => Promise.reject(err),
              )
            if (owned) void done.finally(() => run.runtime.cancel()).catch(() => {})
            return done
          }
          return Promise.resolve({ done: true, value: undefined })
        },
      }
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
