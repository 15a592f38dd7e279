/**
 * `apipeline-ts/otel`: OpenTelemetry tracing of tasks — one trace per session, with turns and per-processor spans —
 * and the session context of the running code (Node: AsyncLocalStorage). Needs `@opentelemetry/api` (an optional
 * peer dependency) and an SDK of your choice.
 *
 * @example
 * ```ts
 * import { PipelineTask } from 'apipeline-ts'
 * import { openTelemetry } from 'apipeline-ts/otel'
 *
 * const otel = openTelemetry({ processor: bot })
 * const task = new PipelineTask(bot, { observe: otel })
 * ```
 * @module
 */
export { openTelemetry, type OpenTelemetryObserver, type OpenTelemetryOptions } from './tracing.js'
export { activeSession, sessionContext, runInSession, type ActiveSession } from './session-context.js'
