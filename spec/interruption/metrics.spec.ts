import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Frames, PipelineTask, pipeline, processorInfo, withInfo, type Frame, type MetricsFrame, type PipelineParams, type Processor, type ProcessorContext, type ProcessorFn } from '../../lib/index.js'
import { measured } from '../../lib/metrics/measured.js'
import { sleep, startTask, texts } from '../helpers/collect.js'

/** A fake model: for every text frame, waits `firstMs`, then streams `words` words `everyMs` apart. */
function model(words: number, firstMs: number, everyMs: number): ProcessorFn {
  return async function* llm(source, ctx) {
    for await (const f of source) {
      if (f.kind !== 'data' || f.type !== 'text') {
        yield f
        continue
      }
      for (let i = 0; i < words; i++) {
        await sleep(i === 0 ? firstMs : everyMs, ctx.signal)
        yield Frames.text(`${f.text}-${i}`)
      }
    }
  }
}

async function drive(params: PipelineParams, processor: ProcessorFn, script: (task: PipelineTask) => Promise<void>): Promise<Frame[]> {
  const { task, out, finish } = startTask(processor, params)
  await script(task)
  task.stopWhenDone()
  await vi.advanceTimersByTimeAsync(0)
  await finish()
  return out
}

const metricsOf = (out: Frame[]): MetricsFrame[] => out.filter((f): f is MetricsFrame => f.kind === 'system' && f.type === 'metrics')
const ttfbs = (out: Frame[]) => metricsOf(out).flatMap((m) => m.ttfb)
const processings = (out: Frame[]) => metricsOf(out).flatMap((m) => m.processing)

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('metrics', () => {
  it('sends an initial metrics frame listing every measuring processor with zeros, right after start', async () => {
    const declared = withInfo(async function* tts(source: AsyncIterable<Frame>) {
      yield* source
    } as ProcessorFn, { metrics: true })
    const plain: ProcessorFn = async function* plain(source) {
      yield* source
    }
    const p = pipeline(plain, measured(model(1, 10, 10)), pipeline(declared))
    const out = await drive({ enableMetrics: true, name: 'T' }, p, async () => {})
    expect(out[0]?.type).toBe('start')
    const initial = out[1] as MetricsFrame
    expect(initial.type).toBe('metrics')
    const zeros = [
      { processor: 'T/llm', value: 0 },
      { processor: 'T/tts', value: 0 },
    ]
    expect(initial.ttfb).toEqual(zeros)
    expect(initial.processing).toEqual(zeros)
  })

  it('reports nothing without enableMetrics', async () => {
    const out = await drive({}, pipeline(measured(model(2, 50, 50))), async (task) => {
      await task.queueFrame(Frames.text('q'))
      await vi.advanceTimersByTimeAsync(200)
    })
    expect(metricsOf(out)).toEqual([])
    expect(texts(out)).toEqual(['q-0', 'q-1'])
  })

  it('measured(): TTFB before the first output, processing time when the processor asks for more', async () => {
    const out = await drive({ enableMetrics: true, name: 'T' }, pipeline(measured(model(3, 200, 100))), async (task) => {
      await task.queueFrame(Frames.text('q'))
      await vi.advanceTimersByTimeAsync(1000)
    })
    const order = out.slice(2).map((f) => (f.kind === 'system' && f.type === 'metrics' ? (f.ttfb.length > 0 ? 'ttfb' : 'processing') : f.type))
    expect(order).toEqual(['ttfb', 'text', 'text', 'text', 'processing', 'end'])
    expect(ttfbs(out)).toEqual([
      { processor: 'T/llm', value: 0 },
      { processor: 'T/llm', value: 0.2 },
    ])
    expect(processings(out)).toEqual([
      { processor: 'T/llm', value: 0 },
      { processor: 'T/llm', value: 0.4 },
    ])
  })

  it('honours reportOnlyInitialTtfb: one TTFB for the run, processing time for every input', async () => {
    const out = await drive({ enableMetrics: true, reportOnlyInitialTtfb: true, sendInitialEmptyMetrics: false }, pipeline(measured(model(1, 100, 0))), async (task) => {
      await task.queueFrames([Frames.text('a'), Frames.text('b'), Frames.text('c')])
      await vi.advanceTimersByTimeAsync(1000)
    })
    expect(ttfbs(out).map((m) => m.value)).toEqual([0.1])
    expect(processings(out).map((m) => m.value)).toEqual([0.1, 0.1, 0.1])
  })

  it('stops every measurement on startInterruption and reports it (the interrupted model is restarted)', async () => {
    const out = await drive({ enableMetrics: true, allowInterruptions: true, sendInitialEmptyMetrics: false }, pipeline(measured(model(5, 100, 100))), async (task) => {
      await task.queueFrame(Frames.text('q'))
      await vi.advanceTimersByTimeAsync(250)
      expect(task.interrupt()).toBe(true)
      await vi.advanceTimersByTimeAsync(0)
      await task.queueFrame(Frames.text('r'))
      await vi.advanceTimersByTimeAsync(1000)
    })
    expect(texts(out)).toEqual(['q-0', 'q-1', 'r-0', 'r-1', 'r-2', 'r-3', 'r-4'])
    const i = out.findIndex((f) => f.type === 'startInterruption')
    expect(i).toBeGreaterThan(0)
    // The processing time of the interrupted request (0.25 s) is reported when startInterruption reaches the wrapper.
    expect(processings(out).map((m) => m.value)).toEqual([0.25, 0.5])
    expect(ttfbs(out).map((m) => m.value)).toEqual([0.1, 0.1])
  })

  it('ctx.metrics: a second startTtfb restarts the clock, but not with reportOnlyInitialTtfb', async () => {
    for (const reportOnlyInitialTtfb of [false, true]) {
      const p = withInfo(async function* svc(source: AsyncIterable<Frame>, ctx: ProcessorContext) {
        for await (const f of source) {
          if (f.kind === 'data' && f.type === 'text') {
            ctx.metrics.startTtfb()
            await sleep(100)
            ctx.metrics.startTtfb()
            await sleep(50)
            const m = ctx.metrics.stopTtfb()
            if (m !== undefined) yield m
            expect(ctx.metrics.stopTtfb()).toBeUndefined()
          }
          yield f
        }
      } as Processor, { metrics: true })
      const out = await drive({ enableMetrics: true, reportOnlyInitialTtfb, sendInitialEmptyMetrics: false }, pipeline(p), async (task) => {
        await task.queueFrame(Frames.text('q'))
        await vi.advanceTimersByTimeAsync(500)
      })
      expect(ttfbs(out).map((m) => m.value)).toEqual([reportOnlyInitialTtfb ? 0.15 : 0.05])
    }
  })

  it('measured() keeps the name it is given and rejects bad options', () => {
    expect(processorInfo(measured(model(1, 1, 1), { name: 'brain' }))).toMatchObject({ name: 'brain', metrics: true })
    expect(processorInfo(measured(model(1, 1, 1)))).toMatchObject({ name: 'llm', metrics: true })
    expect(() => measured(3 as never)).toThrow(TypeError)
    expect(() => measured(model(1, 1, 1), { trigger: 1 as never })).toThrow(TypeError)
    expect(() => measured(model(1, 1, 1), { ttfb: 'yes' as never })).toThrow(TypeError)
    expect(() => measured(model(1, 1, 1), { name: '' })).toThrow(TypeError)
  })
})
