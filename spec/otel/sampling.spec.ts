import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { context } from '@opentelemetry/api'
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Frames, PipelineTask, map, named, pipeline, type Frame, type Processor } from '../../lib/index.js'
import { openTelemetry } from '../../lib/otel/index.js'
import { sleep } from '../helpers/collect.js'
import { converse } from './conversation.js'

const isText = (f: Frame): boolean => f.kind === 'data' && f.type === 'text'
const manager = new AsyncLocalStorageContextManager()

beforeAll(() => {
  context.setGlobalContextManager(manager.enable())
})
afterAll(() => {
  context.disable()
})

/** A tracer provider with `sampler`, exporting into memory; and a bot whose model records a span of its own work. */
function traced(sampler: Sampler) {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const tracer = provider.getTracer('spec')
  const llm: Processor = named('llm', async function* (source, ctx) {
    for await (const f of source) {
      if (!isText(f)) {
        yield f
        continue
      }
      await sleep(1 + Math.floor(Math.random() * 4), ctx.signal)
      tracer.startSpan('work').end()
      yield Frames.text('answer')
    }
  })
  const bot = pipeline(map((f) => f, 'stt'), llm, map((f) => f, 'tts'))
  return { exporter, provider, tracer, bot }
}

/** Runs one session of two questions; resolves with the task once its observers have received everything. */
async function session(bot: Processor, name: string, observe: ReturnType<typeof openTelemetry>): Promise<PipelineTask> {
  const task = new PipelineTask(bot, { name, observe })
  expect((await converse(task)).status).toBe('ended')
  return task
}

const tapOf = (task: PipelineTask): unknown => (task as unknown as { runtime: { tap: unknown } }).runtime.tap

describe('openTelemetry and sampling', () => {
  it('a session the sampler drops costs only its lifecycle: no frame is recorded, no span exported', async () => {
    const { exporter, provider, bot } = traced(new AlwaysOffSampler())
    const otel = openTelemetry({ tracer: provider.getTracer('spec'), processor: bot })
    const task = await session(bot, 'dropped', otel)
    expect(tapOf(task)).toBeUndefined()
    // started and ended: nothing else reached the observer.
    expect(task.observerStats()).toEqual([expect.objectContaining({ name: 'opentelemetry', delivered: 2, dropped: 0, failures: 0 })])
    expect(exporter.getFinishedSpans()).toEqual([])
    expect(otel.openSessions()).toBe(0)
    await provider.shutdown()
  })

  it('with a ratio sampler over 40 sessions, each session is traced whole or not at all, its own spans following its decision', async () => {
    const { exporter, provider, bot } = traced(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.5) }))
    const otel = openTelemetry({ tracer: provider.getTracer('spec'), processor: bot })
    const N = 40
    const tasks = await Promise.all(Array.from({ length: N }, (_, i) => session(bot, `s-${i}`, otel)))
    const spans = exporter.getFinishedSpans()
    const sessions = spans.filter((s) => s.name === 'apipeline.session')
    const sampled = new Set(sessions.map((s) => s.attributes['apipeline.task'] as string))
    // About half (0.5 ** 40 odds against none or all).
    expect(sampled.size).toBeGreaterThan(0)
    expect(sampled.size).toBeLessThan(N)
    const traceOf = new Map(sessions.map((s) => [s.spanContext().traceId, s.attributes['apipeline.task'] as string]))
    for (const task of tasks) {
      const stats = task.observerStats()[0]
      if (sampled.has(task.name)) {
        expect(stats?.delivered, task.name).toBeGreaterThan(2)
        expect(tapOf(task)).toBeDefined()
      } else {
        expect(stats?.delivered, task.name).toBe(2)
        expect(tapOf(task)).toBeUndefined()
      }
    }
    // Every exported span belongs to a sampled session's trace: two turns with three processors each, and the model's
    // own work spans, which follow their session's decision through the context the integration carries.
    for (const s of spans) expect(traceOf.has(s.spanContext().traceId), s.name).toBe(true)
    expect(spans.filter((s) => s.name === 'apipeline.turn')).toHaveLength(sampled.size * 2)
    expect(spans.filter((s) => s.name === 'work')).toHaveLength(sampled.size * 2)
    expect(spans.filter((s) => s.name.startsWith('apipeline.processing '))).toHaveLength(sampled.size * 2 * 3)
    expect(otel.openSessions()).toBe(0)
    await provider.shutdown()
  }, 60_000)
})
