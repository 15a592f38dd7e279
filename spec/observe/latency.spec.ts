import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineTask,
  latencyBreakdown,
  measured,
  named,
  parallel,
  pipeline,
  type Frame,
  type Processor,
  type TurnReport,
} from '../../lib/index.js'
import { sleep } from '../helpers/collect.js'

const isText = (f: Frame): f is Frame & { type: 'text'; text: string } => f.kind === 'data' && f.type === 'text'

/** Takes `ms` per text frame, then passes it on. */
const delay = (name: string, ms: number): Processor =>
  named(name, async function* (source, ctx) {
    for await (const f of source) {
      if (isText(f)) await sleep(ms, ctx.signal)
      yield f
    }
  })

/** Answers a text with `tokens` words: the first after `first` ms, the others every `every` ms. */
const model = (first: number, tokens: number, every: number): Processor =>
  named('llm', async function* (source, ctx) {
    for await (const f of source) {
      if (!isText(f)) {
        yield f
        continue
      }
      await sleep(first, ctx.signal)
      for (let i = 0; i < tokens; i++) {
        if (i > 0) await sleep(every, ctx.signal)
        yield Frames.text(`${f.text}:${i}`)
      }
    }
  })

/** Runs `task` with `script`; `script` gets a function that waits until `n` text frames have reached the sink. */
async function drive(task: PipelineTask, script: (task: PipelineTask, texts: (n: number) => Promise<void>) => Promise<void>): Promise<void> {
  let count = 0
  const reading = (async () => {
    for await (const f of task.frames()) if (isText(f)) count++
  })()
  const texts = async (n: number): Promise<void> => {
    for (let i = 0; i < 1000 && count < n; i++) await sleep(5)
  }
  const done = task.run()
  await script(task, texts)
  await done
  await reading
  await task.observersIdle()
}

describe('latencyBreakdown', () => {
  it('measures each turn: TTFB and total at the sink, and every processor in pipeline order', async () => {
    const bot = pipeline(delay('stt', 10), model(30, 3, 10), delay('tts', 5))
    const turns: TurnReport[] = []
    const latency = latencyBreakdown({ processor: bot, onTurn: (t) => turns.push(t) })
    const task = new PipelineTask(bot, { name: 'L', observe: latency })
    await drive(task, async (t, texts) => {
      await t.queueFrame(Frames.text('one'))
      await texts(3)
      await t.queueFrame(Frames.text('two'))
      await texts(6)
      t.stopWhenDone()
    })
    expect(turns).toHaveLength(2)
    for (const turn of turns) {
      expect(turn.interrupted).toBe(false)
      expect(turn.outputs).toBe(3)
      // stt 10 + llm 30 + tts 5 before the first word; two more words 10 ms apart after it.
      expect(turn.ttfb).toBeGreaterThanOrEqual(43)
      expect(turn.total).toBeGreaterThanOrEqual((turn.ttfb as number) + 18)
      expect(turn.ttfb).toBeLessThan(5000)
      expect(turn.stages.map((s) => s.processor)).toEqual(['stt', 'llm', 'tts'])
      const [stt, llm, tts] = turn.stages
      expect(stt?.ttfb).toBeGreaterThanOrEqual(9)
      expect(llm?.ttfb).toBeGreaterThanOrEqual(29)
      expect(llm?.processing).toBeGreaterThanOrEqual(48)
      expect(llm?.frames).toBe(3)
      expect(tts?.ttfb).toBeGreaterThanOrEqual(4)
      // The last stage's first output is the one that reached the sink: seen there a job later, at most.
      expect(tts?.firstOutput).toBeLessThanOrEqual(turn.ttfb as number)
      expect((turn.ttfb as number) - (tts?.firstOutput as number)).toBeLessThan(25)
    }
    const report = latency.report()
    expect(report).toMatchObject({ turns: 2, interrupted: 0 })
    expect(report.ttfb?.count).toBe(2)
    expect(report.ttfb?.p50).toBeGreaterThanOrEqual(43)
    expect(report.ttfb?.p99).toBeGreaterThanOrEqual(report.ttfb?.p50 as number)
    expect(report.stages.map((s) => s.processor)).toEqual(['stt', 'llm', 'tts'])
    const m = latency.metrics()
    expect(m.type).toBe('metrics')
    expect(m.ttfb?.map((x) => x.processor)).toEqual(['stt', 'llm', 'tts'])
    expect((m.ttfb?.[1]?.value as number) * 1000).toBeCloseTo(report.stages[1]?.ttfb?.p50 as number, 6)
  })

  it('marks an interrupted turn and does not count it as a TTFB', async () => {
    const bot = pipeline(model(80, 2, 5))
    const turns: TurnReport[] = []
    const latency = latencyBreakdown({ onTurn: (t) => turns.push(t) })
    const task = new PipelineTask(bot, { name: 'I', allowInterruptions: true, observe: latency })
    await drive(task, async (t, texts) => {
      await t.queueFrame(Frames.text('answered'))
      await texts(2)
      await t.queueFrame(Frames.text('cut'))
      await sleep(20)
      t.interrupt()
      await t.queueFrame(Frames.text('after'))
      await texts(4)
      t.stopWhenDone()
    })
    expect(turns.map((t) => [t.interrupted, t.ttfb === undefined, t.outputs])).toEqual([
      [false, false, 2],
      [true, true, 0],
      [false, false, 2],
    ])
    const report = latency.report()
    expect(report).toMatchObject({ turns: 3, interrupted: 1 })
    expect(report.ttfb?.count).toBe(2)
    expect(report.ttfb?.min).toBeGreaterThanOrEqual(78)
  })

  it('adds up sessions, times branches from their predecessor, and keeps what processors report in metrics frames', async () => {
    const bot = pipeline(delay('stt', 5), parallel([measured(model(20, 1, 0))], [delay('log', 1)]))
    const latency = latencyBreakdown({ processor: bot })
    const tasks = [0, 1].map((i) => new PipelineTask(bot, { name: `S${i}`, enableMetrics: true, observe: latency }))
    await Promise.all(
      tasks.map((task) =>
        drive(task, async (t, texts) => {
          await t.queueFrame(Frames.text('hi'))
          await texts(2)
          t.stopWhenDone()
        }),
      ),
    )
    const report = latency.report()
    expect(report.turns).toBe(2)
    const llm = report.stages.find((s) => s.processor === 'parallel/branch0/llm')
    expect(llm?.ttfb?.count).toBe(2)
    // Timed from stt's output, not from the input: about 20 ms, not 25.
    expect(llm?.ttfb?.min).toBeGreaterThanOrEqual(18)
    expect(llm?.reportedTtfb?.count).toBe(2)
    expect(llm?.reportedTtfb?.min).toBeGreaterThanOrEqual(18)
    expect(report.stages.map((s) => s.processor)).toContain('parallel/branch1/log')
  })

  it('rejects bad options', () => {
    expect(() => latencyBreakdown({ window: 0 })).toThrow(TypeError)
    expect(() => latencyBreakdown({ onTurn: 1 as never })).toThrow(/onTurn/)
  })
})
