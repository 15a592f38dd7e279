import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { SpanStatusCode, context, trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Frames, PipelineTask, map, named, pipeline, type Frame, type Processor } from '../../lib/index.js'
import { activeSession, openTelemetry, sessionContext } from '../../lib/otel/index.js'
import { sleep } from '../helpers/collect.js'
import { converse } from './conversation.js'

const isText = (f: Frame): boolean => f.kind === 'data' && f.type === 'text'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('spec')
const manager = new AsyncLocalStorageContextManager()

beforeAll(() => {
  context.setGlobalContextManager(manager.enable())
})
afterAll(async () => {
  context.disable()
  await provider.shutdown()
})

/** A "model" that, for each text, waits a random while and records a span of its own work under the active context. */
const llm: Processor = named('llm', async function* (source, ctx) {
  for await (const f of source) {
    if (!isText(f)) {
      yield f
      continue
    }
    await sleep(1 + Math.floor(Math.random() * 8), ctx.signal)
    const session = activeSession()
    const work = tracer.startSpan('work', { attributes: { task: session?.task ?? 'none' } })
    await sleep(Math.floor(Math.random() * 4), ctx.signal)
    // Without a context manager, sessionContext() gives the same parent.
    const explicit = tracer.startSpan('explicit', { attributes: { task: session?.task ?? 'none' } }, sessionContext())
    explicit.end()
    work.end()
    yield Frames.text('answer')
  }
})
const bot = pipeline(map((f) => f, 'stt'), llm, map((f) => f, 'tts'))

const byId = (spans: readonly ReadableSpan[]) => new Map(spans.map((s) => [s.spanContext().spanId, s]))
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId

describe('openTelemetry', () => {
  it('100 concurrent sessions give 100 separate traces, every span parented inside its own session', async () => {
    exporter.reset()
    const otel = openTelemetry({ tracer, processor: bot })
    const N = 100
    const tasks = Array.from({ length: N }, (_, i) => new PipelineTask(bot, { name: `session-${i}`, observe: otel }))
    await Promise.all(
      tasks.map((task) => converse(task)),
    )
    expect(otel.openSessions()).toBe(0)
    const spans = exporter.getFinishedSpans()
    const ids = byId(spans)
    const sessions = spans.filter((s) => s.name === 'apipeline.session')
    expect(sessions).toHaveLength(N)
    expect(new Set(sessions.map((s) => s.spanContext().traceId)).size).toBe(N)
    expect(sessions.every((s) => parentOf(s) === undefined)).toBe(true)
    const sessionOfTask = new Map(sessions.map((s) => [s.attributes['apipeline.task'] as string, s]))
    expect(sessionOfTask.size).toBe(N)

    // The spans created inside processors: parented on their own task's session span.
    for (const name of ['work', 'explicit']) {
      const mine = spans.filter((s) => s.name === name)
      expect(mine).toHaveLength(N * 2)
      for (const w of mine) {
        const session = sessionOfTask.get(w.attributes['task'] as string)
        expect(session, `${name} span of ${String(w.attributes['task'])}`).toBeDefined()
        expect(parentOf(w)).toBe(session?.spanContext().spanId)
        expect(w.spanContext().traceId).toBe(session?.spanContext().traceId)
      }
    }

    // Turn spans under their session, processor spans under their turn, TTFB spans under the processor span.
    const turns = spans.filter((s) => s.name === 'apipeline.turn')
    expect(turns).toHaveLength(N * 2)
    for (const t of turns) {
      const parent = ids.get(parentOf(t) as string)
      expect(parent?.name).toBe('apipeline.session')
      expect(t.spanContext().traceId).toBe(parent?.spanContext().traceId)
      expect(t.attributes['apipeline.turn.interrupted']).toBe(false)
      expect(t.attributes['apipeline.turn.ttfb_ms']).toBeGreaterThan(0)
    }
    const processing = spans.filter((s) => s.name.startsWith('apipeline.processing '))
    expect(new Set(processing.map((s) => s.attributes['apipeline.processor']))).toEqual(new Set(['stt', 'llm', 'tts']))
    for (const p of processing) expect(ids.get(parentOf(p) as string)?.name).toBe('apipeline.turn')
    const ttfb = spans.filter((s) => s.name.startsWith('apipeline.ttfb '))
    expect(ttfb).toHaveLength(processing.length)
    for (const t of ttfb) expect(ids.get(parentOf(t) as string)?.name.startsWith('apipeline.processing ')).toBe(true)
    // Frame counts on the session span.
    const one = sessionOfTask.get('session-7')
    expect(one?.attributes).toMatchObject({ 'apipeline.status': 'ended', 'apipeline.frames.llm': expect.any(Number) })
    expect(one?.attributes['apipeline.frames.in']).toBe(4) // start, two questions, end
  }, 60_000)

  it('marks interruptions and failures', async () => {
    exporter.reset()
    const otel = openTelemetry({ tracer })
    const slow: Processor = named('slow', async function* (source, ctx) {
      for await (const f of source) {
        if (isText(f)) await sleep(200, ctx.signal)
        yield f
      }
    })
    const task = new PipelineTask(pipeline(slow), { name: 'cut', allowInterruptions: true, observe: otel })
    const reading = (async () => {
      for await (const _ of task.frames()) void _
    })()
    const done = task.run()
    await task.queueFrame(Frames.text('x'))
    await sleep(10)
    task.interrupt()
    task.handleUpstream(Frames.error('broken', { fatal: true }))
    await done
    await reading
    await task.observersIdle()
    const spans = exporter.getFinishedSpans()
    const session = spans.find((s) => s.name === 'apipeline.session')
    expect(session?.events.map((e) => e.name)).toEqual(['apipeline.interruption'])
    expect(session?.attributes['apipeline.interruptions']).toBe(1)
    expect(session?.attributes['apipeline.status']).toBe('errored')
    expect(session?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'broken' })
    const turn = spans.find((s) => s.name === 'apipeline.turn')
    expect(turn?.attributes['apipeline.turn.interrupted']).toBe(true)
    expect(turn?.attributes['apipeline.turn.ttfb_ms']).toBeUndefined()
  })

  it('with perProcessor: false, traces sessions and turns from the frames entering and leaving the task only', async () => {
    exporter.reset()
    const otel = openTelemetry({ tracer, processor: bot, perProcessor: false })
    expect(otel.at).toEqual(['input', 'output'])
    const taps: unknown[] = []
    const probe: Processor = async function* probe(source, ctx) {
      for await (const f of source) {
        taps.push(ctx?.runtime.tap)
        yield f
      }
    }
    const task = new PipelineTask(pipeline(probe, bot), { name: 'turns-only', observe: otel })
    await converse(task, 2, 'q')
    // The stages were not tapped.
    expect(taps.length).toBeGreaterThan(0)
    expect(taps.every((t) => t === undefined)).toBe(true)
    const spans = exporter.getFinishedSpans()
    const session = spans.find((s) => s.name === 'apipeline.session')
    expect(session?.attributes).toMatchObject({ 'apipeline.frames.in': 4, 'apipeline.status': 'ended' })
    expect(Object.keys(session?.attributes ?? {}).some((k) => k.startsWith('apipeline.frames.llm'))).toBe(false)
    const turns = spans.filter((s) => s.name === 'apipeline.turn')
    expect(turns).toHaveLength(2)
    for (const t of turns) {
      expect(t.parentSpanContext?.spanId).toBe(session?.spanContext().spanId)
      expect(t.attributes['apipeline.turn.ttfb_ms']).toBeGreaterThan(0)
    }
    expect(spans.filter((s) => s.name.startsWith('apipeline.processing ') || s.name.startsWith('apipeline.ttfb '))).toHaveLength(0)
    expect(() => openTelemetry({ tracer, perProcessor: 1 as never })).toThrow(TypeError)
  })

  it('without a task, no session is active', () => {
    expect(activeSession()).toBeUndefined()
    expect(trace.getSpan(sessionContext())).toBeUndefined()
    expect(() => openTelemetry({ tracer: {} as never })).toThrow(TypeError)
  })
})
