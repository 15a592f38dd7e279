/**
 * Observing a pipeline: the demo bot's graph (Mermaid), a latency breakdown per turn, and a trace file for the viewer.
 *
 * Run: npx tsx examples/observe.ts [trace.jsonl]   then: npx apipeline-ts trace view trace.jsonl
 */
import { describe, latencyBreakdown } from '../lib/index.js'
import { traceRecorder } from '../lib/trace/index.js'
import { demoBot, runDemoSession } from './observe-session.js'

const file = process.argv[2] ?? 'demo-session.jsonl'
console.log(describe(demoBot).toMermaid())

const latency = latencyBreakdown({
  processor: demoBot,
  onTurn: (t) =>
    console.log(
      `turn ${t.index} (${t.input}): ${t.interrupted ? 'interrupted' : `first output ${t.ttfb?.toFixed(0)} ms, last ${t.total?.toFixed(0)} ms`}` +
        t.stages.map((s) => `\n  ${s.processor.padEnd(24)} ttfb ${s.ttfb.toFixed(1).padStart(6)} ms  processing ${s.processing.toFixed(1).padStart(7)} ms  ${s.frames} frames`).join(''),
    ),
})
const recorder = traceRecorder(file, { processor: demoBot })
const result = await runDemoSession([latency, recorder])
await recorder.closed
const report = latency.report()
console.log(`\nstatus ${result.status}; ${report.turns} turns (${report.interrupted} interrupted); first output p50 ${report.ttfb?.p50.toFixed(0)} ms, p99 ${report.ttfb?.p99.toFixed(0)} ms`)
console.log(`trace: ${file} (${recorder.stats().lines} lines); view it with: npx apipeline-ts trace view ${file}`)
