/**
 * The session a piece of code runs for: an AsyncLocalStorage per process that holds, for the work of each task, that
 * task's session span and its OpenTelemetry context. Processors (and the libraries they call) running inside a task
 * see their own session, whatever other sessions run concurrently.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { context as otelContext, type Context, type Span } from '@opentelemetry/api'

/**
 * The session of the code that is running.
 * @example
 * ```ts
 * import { activeSession } from 'apipeline-ts/otel'
 * import type { Frame, ProcessorFn } from 'apipeline-ts'
 *
 * const logSession: ProcessorFn = async function* (source: AsyncIterable<Frame>) {
 *   for await (const f of source) {
 *     console.log('serving', activeSession()?.task)
 *     yield f
 *   }
 * }
 * ```
 */
export interface ActiveSession {
  /** The task's name. */
  readonly task: string
  /** The task's session number (unique within the process). */
  readonly session: number
  /** The task's session span. */
  readonly span: Span
  /** An OpenTelemetry context whose active span is the session span. */
  readonly context: Context
}

const storage = new AsyncLocalStorage<ActiveSession>()

/**
 * Runs `fn` as the work of `session` (what the observer does for each task; useful to run related work, e.g. a
 * callback from outside the pipeline, in a task's session).
 * @example
 * ```ts
 * import { activeSession, runInSession } from 'apipeline-ts/otel'
 * const flush = (): void => console.log('flushing for', activeSession()?.task)
 * const session = activeSession()
 * setTimeout(() => (session ? runInSession(session, flush) : flush()), 100)
 * ```
 */
export function runInSession<T>(session: ActiveSession, fn: () => T): T {
  return storage.run(session, () => otelContext.with(session.context, fn))
}

/**
 * The session whose task is running the current code, if any.
 * @example
 * ```ts
 * import { activeSession } from 'apipeline-ts/otel'
 * activeSession()?.span.addEvent('cache miss')
 * ```
 */
export function activeSession(): ActiveSession | undefined {
  return storage.getStore()
}

/**
 * The OpenTelemetry context to parent spans on: the running task's session context, else the active context. Use it
 * when no global context manager is registered (with one, `context.active()` already gives the same).
 * @example
 * ```ts
 * import { trace } from '@opentelemetry/api'
 * import { sessionContext } from 'apipeline-ts/otel'
 * const span = trace.getTracer('bot').startSpan('llm call', {}, sessionContext())
 * ```
 */
export function sessionContext(): Context {
  return storage.getStore()?.context ?? otelContext.active()
}
