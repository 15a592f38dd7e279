/**
 * `apipeline-ts/trace`: recording a session to a file and viewing it (Node only).
 *
 * @example
 * ```ts
 * import { PipelineTask } from 'apipeline-ts'
 * import { traceRecorder } from 'apipeline-ts/trace'
 *
 * const recorder = traceRecorder('session.jsonl', { processor: bot })
 * await new PipelineTask(bot, { observe: recorder }).run()
 * await recorder.closed
 * // npx apipeline-ts trace view session.jsonl  → session.html
 * ```
 * @module
 */
export { traceRecorder, type TraceRecorder, type TraceRecorderOptions, type TraceRecorderStats } from './recorder.js'
export { readTrace, TraceFormatError, type Trace, type ReadTraceOptions } from './read-trace.js'
export { renderTraceHtml, graphSvg } from './trace-html.js'
export { TRACE_VERSION, traceFrame, type TraceHeader, type TraceFrame, type TraceFrameLine, type TraceEventLine, type TraceLine } from './trace-format.js'
export { main as traceCli, type CliIo } from './cli.js'
