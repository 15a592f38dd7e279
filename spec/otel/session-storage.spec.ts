import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { context, trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, describe, expect, it } from 'vitest'
import { Frames, PipelineTask, named, pipeline, type Processor } from '../../lib/index.js'
import { activeSession, openTelemetry, sessionContext } from '../../lib/otel/index.js'
import { sessionStorageInUse } from '../../lib/otel/session-context.js'
import { sleep } from '../helpers/collect.js'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('spec')
afterAll(async () => {
  context.disable()
  await provider.shutdown()
})

/** Work a task leaves behind: it reads its session once `release` is called, after every task has ended. */
let release: () => void = () => {}
let lingering: Promise<string | undefined> | undefined
const gate = new Promise<void>((resolve) => (release = resolve))

/** Answers each text with the name of the session it runs in (after an await, so the context must have travelled). */
const whoAmI: Processor = named('whoami', async function* (source, ctx) {
  for await (const f of source) {
    if (f.kind === 'data' && f.type === 'text') {
      await sleep(1 + Math.floor(Math.random() * 5), ctx.signal)
      const span = trace.getSpan(sessionContext())
      lingering ??= gate.then(() => activeSession()?.task)
      yield Frames.text(`${activeSession()?.task ?? 'none'} ${span === undefined ? 'no-span' : 'span'}`)
    } else yield f
  }
})

async function session(name: string, otel: ReturnType<typeof openTelemetry>, during?: () => void): Promise<string[]> {
  const task = new PipelineTask(pipeline(whoAmI), { name, observe: otel })
  const texts: string[] = []
  const reading = (async () => {
    for await (const f of task.frames()) if (f.kind === 'data' && f.type === 'text') texts.push(f.text)
  })()
  const done = task.run()
  await task.queueFrames([Frames.text('a'), Frames.text('b')])
  during?.()
  task.stopWhenDone()
  await done
  await reading
  await task.observersIdle()
  return texts
}

describe('the session context of traced tasks', () => {
  it('without a context manager, a storage of its own carries each session, enabled only while traced tasks run', async () => {
    const otel = openTelemetry({ tracer, storage: true })
    const inUse: number[] = []
    const outputs = await Promise.all(Array.from({ length: 20 }, (_, i) => session(`s${i}`, otel, () => inUse.push(sessionStorageInUse()))))
    outputs.forEach((texts, i) => expect(texts).toEqual([`s${i} span`, `s${i} span`]))
    expect(Math.max(...inUse)).toBeGreaterThan(0)
    // Every traced task has ended: the storage (and the promise hook it costs every async operation) is disabled.
    expect(sessionStorageInUse()).toBe(0)
    expect(activeSession()).toBeUndefined()
    // Work started inside a task and still pending finds no session: the storage no longer follows async work.
    release()
    expect(lingering).toBeDefined()
    expect(await lingering).toBeUndefined()
    // And it comes back for the next traced task.
    expect(await session('again', otel)).toEqual(['again span', 'again span'])
    expect(sessionStorageInUse()).toBe(0)
  })

  it('without a context manager and without storage, no hook is enabled and the spans are still parented per session', async () => {
    exporter.reset()
    const otel = openTelemetry({ tracer })
    const inUse: number[] = []
    const outputs = await Promise.all(Array.from({ length: 10 }, (_, i) => session(`n${i}`, otel, () => inUse.push(sessionStorageInUse()))))
    // Inside processors no session is found (nothing carries it), and no storage was enabled for it.
    outputs.forEach((texts) => expect(texts).toEqual(['none no-span', 'none no-span']))
    expect(inUse.every((n) => n === 0)).toBe(true)
    expect(() => openTelemetry({ tracer, storage: 'yes' as never })).toThrow(TypeError)
    const spans = exporter.getFinishedSpans()
    const sessions = spans.filter((s) => s.name === 'apipeline.session')
    expect(sessions).toHaveLength(10)
    const turns = spans.filter((s) => s.name === 'apipeline.turn')
    expect(turns).toHaveLength(20)
    for (const t of turns) {
      const parent = sessions.find((s) => s.spanContext().spanId === t.parentSpanContext?.spanId)
      expect(parent?.spanContext().traceId).toBe(t.spanContext().traceId)
    }
    expect(new Set(turns.map((t) => t.spanContext().traceId)).size).toBe(10)
  })

  it('with a context manager registered, the session travels in the OpenTelemetry context and no storage of ours is enabled', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    try {
      const otel = openTelemetry({ tracer })
      const inUse: number[] = []
      const outputs = await Promise.all(Array.from({ length: 20 }, (_, i) => session(`m${i}`, otel, () => inUse.push(sessionStorageInUse()))))
      outputs.forEach((texts, i) => expect(texts).toEqual([`m${i} span`, `m${i} span`]))
      expect(inUse.every((n) => n === 0)).toBe(true)
      const sessions = exporter.getFinishedSpans().filter((s) => s.name === 'apipeline.session' && String(s.attributes['apipeline.task']).startsWith('m'))
      expect(sessions).toHaveLength(20)
    } finally {
      context.disable()
    }
  })
})

