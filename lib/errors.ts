/**
 * Error classes thrown or carried by the library. Every one has a stable `name` to test against.
 * @module
 */
import type { ErrorFrame } from './frames/types.js'

/**
 * Throw (or reject with) a `FatalError` from a processor to end the task as `'errored'`.
 * Any other thrown value is reported upstream as a non-fatal error frame and the pipeline goes on.
 * @example
 * ```ts
 * const guard: ProcessorFn = async function* (source) {
 *   for await (const f of source) {
 *     if (f.type === 'text' && f.text === 'panic') throw new FatalError('cannot continue')
 *     yield f
 *   }
 * }
 * ```
 */
export class FatalError extends Error {
  override readonly name = 'FatalError'
  /** Always true: marks the error as fatal for the task. */
  readonly fatal = true
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * The reason `ctx.signal` aborts on cancel: the task was cancelled or stopped.
 * @example
 * ```ts
 * try {
 *   for await (const token of model(text, ctx.signal)) log(token)
 * } catch (err) {
 *   if (!(err instanceof CancelledError)) throw err // cancelled: stop quietly
 * }
 * ```
 */
export class CancelledError extends Error {
  override readonly name = 'CancelledError'
  constructor(message = 'the pipeline task was cancelled') {
    super(message)
  }
}

/**
 * The reason `ctx.signal` aborts on an interruption. A fresh signal is in place right after.
 * @example
 * ```ts
 * ctx.signal.addEventListener('abort', () => { if (ctx.signal.reason instanceof InterruptedError) stopSpeaking() })
 * ```
 */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError'
  constructor(message = 'the pipeline was interrupted') {
    super(message)
  }
}

/**
 * Thrown by `run()`'s iteration when the task ended `'errored'` (a fatal error frame reached the task,
 * a processor threw a {@link FatalError}, or the input iterable threw). `frame` is the error frame.
 * @example
 * ```ts
 * try { for await (const f of run(p, input)) use(f) } catch (err) { if (err instanceof PipelineError) log(err.frame.processor) }
 * ```
 */
export class PipelineError extends Error {
  override readonly name = 'PipelineError'
  readonly frame: ErrorFrame
  constructor(frame: ErrorFrame) {
    super(frame.processor === undefined ? frame.error : `${frame.processor}: ${frame.error}`, { cause: frame.cause })
    this.frame = frame
  }
}

/**
 * True when `err` asks to be fatal: a {@link FatalError} or any error object with `fatal === true`.
 * @example
 * ```ts
 * isFatal(new FatalError('x')) // true
 * ```
 */
export function isFatal(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { fatal?: unknown }).fatal === true
}

/**
 * True when `err` looks like the result of an aborted signal (`AbortError`, or one of our abort reasons).
 * @example
 * ```ts
 * try { await fetch(url, { signal: ctx.signal }) } catch (err) { if (!isAbortLike(err)) throw err }
 * ```
 */
export function isAbortLike(err: unknown): boolean {
  if (err instanceof CancelledError || err instanceof InterruptedError) return true
  if (typeof err !== 'object' || err === null) return false
  const e = err as { name?: unknown; cause?: unknown }
  return e.name === 'AbortError' || e.cause instanceof CancelledError || e.cause instanceof InterruptedError
}
