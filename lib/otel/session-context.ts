/**
 * The session a piece of code runs for: for the work of each task, that task's session span and its OpenTelemetry
 * context. Processors (and the libraries they call) running inside a task see their own session, whatever other
 * sessions run concurrently.
 *
 * The session travels in the OpenTelemetry context itself (under a context key of its own). When a context manager
 * that follows async work is registered (`AsyncLocalStorageContextManager`, which the Node SDK registers), that is all
 * it takes: no hook of ours is added. Without one, and only when asked for (`openTelemetry({ storage: true })`), an
 * AsyncLocalStorage of this module carries it; that storage is enabled only while a traced task runs and disabled
 * again when the last one has ended, because an enabled AsyncLocalStorage (Node 20) runs a hook on every promise the
 * process creates, traced or not.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { ROOT_CONTEXT, context as otelContext, createContextKey, trace, type Context, type Span } from '@opentelemetry/api'

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
const SESSION = createContextKey('apipeline-ts session')
const PROBE = createContextKey('apipeline-ts context probe')
/** Traced tasks running on the storage of this module (it is disabled when this drops to 0). */
let onStorage = 0

/** True when the registered OpenTelemetry context manager carries a context (a no-op manager does not). */
function contextManagerRegistered(): boolean {
  const probe = ROOT_CONTEXT.setValue(PROBE, true)
  return otelContext.with(probe, () => otelContext.active().getValue(PROBE) === true)
}

/**
 * The session of a task: its session span and a context with that span active (and the session itself, so
 * {@link activeSession} finds it through any context manager).
 * @example
 * ```ts
 * import { context, trace } from '@opentelemetry/api'
 * import { runInSession } from 'apipeline-ts/otel'
 * import { newSession } from './session-context.js'
 * const span = trace.getTracer('bot').startSpan('apipeline.session')
 * const session = newSession('my-task', 0, span, context.active())
 * runInSession(session, () => console.log('in my-task'))
 * ```
 */
export function newSession(task: string, session: number, span: Span, parent: Context): ActiveSession {
  const state: { task: string; session: number; span: Span; context: Context } = { task, session, span, context: parent }
  state.context = trace.setSpan(parent, span).setValue(SESSION, state)
  return state
}

/**
 * Runs `fn` as the work of `session` (what the observer does for each task; useful to run related work, e.g. a
 * callback from outside the pipeline, in a task's session). Without a context manager registered, the session reaches
 * async work started by `fn` only while a traced task is running (see the module's documentation).
 * @example
 * ```ts
 * import { activeSession, runInSession } from 'apipeline-ts/otel'
 * const flush = (): void => console.log('flushing for', activeSession()?.task)
 * const session = activeSession()
 * setTimeout(() => (session ? runInSession(session, flush) : flush()), 100)
 * ```
 */
export function runInSession<T>(session: ActiveSession, fn: () => T): T {
  const withContext = (): T => otelContext.with(session.context, fn)
  return contextManagerRegistered() ? withContext() : storage.run(session, withContext)
}

/**
 * Runs a task's work (`run`) in `session` for as long as the task runs: call `leave()` once the task has ended.
 * Without a context manager registered, this enables the storage of this module until the last such task has left;
 * with `ownStorage` false it does not, and the work runs with no session.
 * @example
 * ```ts
 * import { context, trace } from '@opentelemetry/api'
 * import { enterSession, newSession } from './session-context.js'
 * const session = newSession('my-task', 0, trace.getTracer('bot').startSpan('apipeline.session'), context.active())
 * const { result, leave } = enterSession(session, () => task.run())
 * void result.then(leave)
 * ```
 */
export function enterSession<T>(session: ActiveSession, run: () => T, ownStorage = true): { readonly result: T; readonly leave: () => void } {
  if (contextManagerRegistered()) return { result: otelContext.with(session.context, run), leave: () => {} }
  if (!ownStorage) return { result: run(), leave: () => {} }
  onStorage++
  let left = false
  const leave = (): void => {
    if (left) return
    left = true
    if (--onStorage === 0) storage.disable()
  }
  return { result: storage.run(session, () => otelContext.with(session.context, run)), leave }
}

/**
 * How many running tasks the AsyncLocalStorage of this module carries (0 when it is disabled).
 * @example
 * ```ts
 * import { sessionStorageInUse } from './session-context.js'
 * if (sessionStorageInUse() === 0) console.log('no promise hook of ours is enabled')
 * ```
 */
export function sessionStorageInUse(): number {
  return onStorage
}

/**
 * The session whose task is running the current code, if any: found through the registered context manager, or
 * through the storage of the integration (`openTelemetry({ storage: true })`); undefined otherwise.
 * @example
 * ```ts
 * import { activeSession } from 'apipeline-ts/otel'
 * activeSession()?.span.addEvent('cache miss')
 * ```
 */
export function activeSession(): ActiveSession | undefined {
  return storage.getStore() ?? (otelContext.active().getValue(SESSION) as ActiveSession | undefined)
}

/**
 * The OpenTelemetry context to parent spans on: the running task's session context, else the active context. Use it
 * when no global context manager is registered and the integration carries the session itself
 * (`openTelemetry({ storage: true })`); with a context manager, `context.active()` already gives the same.
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
