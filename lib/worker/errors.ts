/**
 * Errors of worker-thread stages.
 * @module
 */

/**
 * A frame's work failed in a worker thread: the handler threw (its `name`, `message` and stack are kept, and
 * `fatal` when the thrown error was fatal, e.g. a `FatalError`), it returned something that is not a frame, or the
 * thread died while holding the frame. The message ends with the frame it was handling (`… (while handling
 * text#3)`), also given as {@link WorkerError.frame}. The stage reports it upstream as an `error` frame naming the
 * stage, drops that frame and goes on (a fatal one ends the task as `'errored'`).
 * @example
 * ```ts
 * import { PipelineError } from 'apipeline-ts'
 * // with an inWorker stage whose handler throws new FatalError('bad model file'):
 * try { for await (const f of run(bot, input)) use(f) } catch (err) {
 *   if (err instanceof PipelineError) console.log(err.frame.processor, err.frame.error) // 'PipelineTask#0/inWorker(vad)', 'bad model file (while handling audioRaw#7)'
 * }
 * ```
 */
export class WorkerError extends Error {
  override readonly name = 'WorkerError'
  /** The `name` of the error thrown in the thread (`'Error'`, `'FatalError'`, `'TypeError'` …). */
  readonly remoteName: string
  /** True when the error thrown in the thread was fatal (`fatal === true`, as a `FatalError` is). */
  readonly fatal: boolean
  /** The input frame whose work failed (its `id` and `name` on the calling thread), when the error is about one. */
  readonly frame: { readonly id: number; readonly name: string } | undefined
  constructor(message: string, options: { remoteName?: string; fatal?: boolean; stack?: string; cause?: unknown; frame?: { readonly id: number; readonly name: string } } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.remoteName = options.remoteName ?? 'Error'
    this.fatal = options.fatal === true
    this.frame = options.frame === undefined ? undefined : { id: options.frame.id, name: options.frame.name }
    if (options.stack !== undefined) this.stack = `${this.name}: ${message}\n    in a worker thread:\n${options.stack}`
  }
}

/**
 * A worker-thread stage could not start: its module could not be imported in a thread, the named export is not a
 * function, or the threads failed while starting. Always fatal: the stage throws it before reading any frame, so the
 * task ends as `'errored'` with one error frame naming the stage.
 * @example
 * ```ts
 * import { PipelineError } from 'apipeline-ts'
 * import { inWorker } from 'apipeline-ts/worker'
 *
 * const url = new URL('./stages.js', import.meta.url)
 * try { for await (const f of run(inWorker(url, 'nope'), input)) use(f) } catch (err) {
 *   if (err instanceof PipelineError && err.frame.cause instanceof WorkerModuleError) console.error(err.message)
 * }
 * ```
 */
export class WorkerModuleError extends Error {
  override readonly name = 'WorkerModuleError'
  /** Always true: a stage that cannot start ends the task. */
  readonly fatal = true
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
