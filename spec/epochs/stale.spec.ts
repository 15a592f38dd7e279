import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineTask,
  buffer,
  isInterruptionReport,
  parallel,
  pipeline,
  uninterruptible,
  type Frame,
  type InterruptionReportFrame,
  type Processor,
  type ProcessorFn,
} from '../../lib/index.js'
import { deferred, tick } from '../helpers/collect.js'

async function until(cond: () => boolean, turns = 500): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await tick()
  expect(cond()).toBe(true)
}

/** An LLM that ignores its signal: for every question it streams `words` words, one per macrotask turn. */
function deafLlm(words: number, log: { read: number }): Processor {
  return async function* deafLlm(source) {
    for await (const f of source) {
      if (f.kind !== 'data' || f.type !== 'text') {
        yield f
        continue
      }
      log.read++
      for (let i = 0; i < words; i++) {
        await tick()
        yield Frames.text(`${f.text}:w${i} `)
      }
    }
  }
}

interface Seen {
  frame: Frame
  /** Interruptions so far when the reader took the frame. */
  epoch: number
}

function start(processor: Processor) {
  const reports: InterruptionReportFrame[] = []
  const task = new PipelineTask(processor, {
    allowInterruptions: true,
    onUpstream: (f) => {
      if (isInterruptionReport(f)) reports.push(f)
    },
  })
  const seen: Seen[] = []
  let interrupts = 0
  const output = task.frames()
  const reading = (async () => {
    for await (const frame of output) seen.push({ frame, epoch: interrupts })
  })()
  const running = task.run()
  return {
    task,
    seen,
    reports,
    interrupt() {
      interrupts++
      expect(task.interrupt()).toBe(true)
    },
    async finish() {
      task.stopWhenDone()
      const result = await running
      await reading
      return result
    },
  }
}

const words = (seen: readonly Seen[]): string[] =>
  seen.flatMap((s) => (s.frame.kind === 'data' && s.frame.type === 'text' ? [s.frame.text] : []))

describe('interruption epochs: stale output', () => {
  it('a stage that ignores its signal leaks no word of the interrupted answer; the next answer flows', async () => {
    const log = { read: 0 }
    const run = start(pipeline(deafLlm(20, log), buffer({ capacity: 4 })))
    await run.task.queueFrame(Frames.text('q1'))
    await until(() => words(run.seen).length >= 3)
    run.interrupt()
    const at = run.seen.length
    await run.task.queueFrame(Frames.text('q2'))
    await until(() => words(run.seen).some((w) => w.startsWith('q2:w19')))
    const result = await run.finish()
    expect(result.status).toBe('ended')
    const after = run.seen.slice(at)
    // startInterruption is the first thing the sink sees after interrupt(), ahead of anything produced after it.
    expect(after[0]?.frame.type).toBe('startInterruption')
    // No word of q1 reaches the sink after the interruption; all 20 of q2 do.
    expect(words(after).filter((w) => w.startsWith('q1'))).toEqual([])
    expect(words(after).filter((w) => w.startsWith('q2'))).toHaveLength(20)
    expect(run.task.staleFrames).toBeGreaterThan(0)
    // Exactly one startInterruption reaches the sink.
    expect(run.seen.filter((s) => s.frame.type === 'startInterruption')).toHaveLength(1)
  })

  it('startInterruption reaches the sink while a stage in the middle is busy and not reading its source', async () => {
    const release = deferred()
    let busy = false
    const stuck: Processor = async function* stuck(source) {
      for await (const f of source) {
        if (f.kind === 'data') {
          busy = true
          await release.promise // ignores ctx.signal
          busy = false
        }
        yield f
      }
    }
    const pass: Processor = async function* pass(source) {
      for await (const f of source) yield f
    }
    const run = start(pipeline(pass, stuck, pass))
    await run.task.queueFrame(Frames.text('old'))
    await until(() => busy)
    run.interrupt()
    await until(() => run.seen.some((s) => s.frame.type === 'startInterruption'))
    expect(busy).toBe(true)
    release.resolve()
    await run.task.queueFrame(Frames.text('new'))
    await until(() => words(run.seen).includes('new'))
    await run.finish()
    expect(words(run.seen)).toEqual(['new'])
    expect(run.seen.map((s) => s.frame.type)).toEqual(['start', 'startInterruption', 'text', 'end'])
  })

  it('startInterruption never overtakes start at the sink', async () => {
    const release = deferred()
    const gate: Processor = async function* gate(source) {
      await release.promise
      yield* source
    }
    const run = start(pipeline(gate))
    await tick()
    run.interrupt()
    release.resolve()
    await run.finish()
    expect(run.seen.map((s) => s.frame.type)).toEqual(['start', 'startInterruption', 'end'])
  })

  it('uninterruptible frames pass the stale check, every queue and the output flush, in order', async () => {
    const release = deferred()
    const results = [0, 1, 2].map((i) => uninterruptible(Frames.app('toolResult', i)))
    const producer: Processor = async function* producer(source) {
      for await (const f of source) {
        if (f.kind !== 'data') {
          yield f
          continue
        }
        for (const r of results) {
          yield Frames.text('spoken')
          yield r
        }
        await release.promise
        yield uninterruptible(Frames.text('transcript'))
        yield Frames.text('stale')
      }
    }
    const slow: Processor = async function* slow(source) {
      for await (const f of source) {
        if (f.kind !== 'system') await tick()
        yield f
      }
    }
    const run = start(pipeline(producer, buffer({ capacity: 8 }), parallel(slow), buffer({ capacity: 2 })))
    await run.task.queueFrame(Frames.text('go'))
    await until(() => run.seen.length >= 2)
    run.interrupt()
    release.resolve()
    await run.finish()
    const kept = run.seen.map((s) => s.frame).filter((f) => f.uninterruptible === true)
    expect(kept.map((f) => f.id)).toEqual([...results.map((r) => r.id), kept.at(-1)?.id])
    expect(kept.at(-1)?.type).toBe('text')
    expect(words(run.seen)).not.toContain('stale')
  })

  it('reports what the sink received and what was dropped, upstream through the stages and to onUpstream', async () => {
    const log = { read: 0 }
    const upstreamSeen: Frame[] = []
    const observer: ProcessorFn = (source, ctx) => {
      ctx?.onUpstream((f, next) => {
        upstreamSeen.push(f)
        next(f)
      })
      return source
    }
    const run = start(pipeline(observer, deafLlm(10, log)))
    await run.task.queueFrame(Frames.text('q'))
    await until(() => words(run.seen).length >= 4)
    run.interrupt()
    const heard = words(run.seen)
    await until(() => run.reports.length === 1)
    const report = run.reports[0]?.data
    expect(report?.epoch).toBe(0)
    expect(report?.deliveredText).toBe(heard.join(''))
    expect(report?.delivered.map((d) => d.text)).toEqual(heard)
    expect(report?.deliveredCount).toBe(heard.length)
    // Everything the model produced for the question is either delivered or dropped, never both.
    expect(report?.deliveredCount! + report?.droppedCount!).toBe(10)
    expect(report?.droppedText).toBe(Array.from({ length: 10 - heard.length }, (_, i) => `q:w${heard.length + i} `).join(''))
    expect(upstreamSeen.filter(isInterruptionReport)).toHaveLength(1)
    await run.finish()
  })
})
