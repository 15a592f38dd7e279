/**
 * Stale output of processors that read and produce concurrently: a pump keeps reading the source while another loop
 * streams the answer, so the stage's last read says nothing about what is yielded. Such a processor states the epoch of
 * the input each frame answers (`stampEpoch`); the stage drops what answers input of before an interruption.
 */
import { pushable } from 'it-pushable'
import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineTask,
  currentEpoch,
  isInterruptionReport,
  mapConcurrent,
  pipeline,
  stampEpoch,
  type Frame,
  type InterruptionReportFrame,
  type ProcessorFn,
} from '../../lib/index.js'

/** Waits (bounded: 10 s) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!cond() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1))
  expect(cond()).toBe(true)
}

/**
 * Reads its source in a pump of its own and, for every `talk` text, streams `words` words from a timer loop that
 * ignores the signal. With `stamp`, each word carries the epoch in which its question was read.
 */
function concurrentTalker(words: number, stamp: boolean, log: { produced: number }): ProcessorFn {
  return function concurrentTalker(source, ctx) {
    const out = pushable<Frame>({ objectMode: true })
    const answer = async (question: string, epoch: number): Promise<void> => {
      for (let i = 0; i < words; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1))
        const word = Frames.text(`${question}:w${i}`)
        log.produced++
        out.push(stamp ? stampEpoch(ctx, word, epoch) : word)
      }
    }
    void (async () => {
      const answers: Promise<void>[] = []
      try {
        for await (const f of source) {
          if (f.kind === 'data' && f.type === 'text') answers.push(answer(f.text, currentEpoch(ctx)))
          else out.push(f)
        }
        await Promise.all(answers)
      } finally {
        out.end()
      }
    })()
    return out
  }
}

function startTask(processor: ProcessorFn, outputCapacity?: number) {
  const reports: InterruptionReportFrame[] = []
  const task = new PipelineTask(pipeline(processor), {
    allowInterruptions: true,
    slowInterruptionMs: 0,
    ...(outputCapacity === undefined ? {} : { outputCapacity }),
    onUpstream: (f) => {
      if (isInterruptionReport(f)) reports.push(f)
    },
  })
  const out: Frame[] = []
  const output = task.frames()
  const reading = (async () => {
    for await (const f of output) out.push(f)
  })()
  const running = task.run()
  return { task, out, reports, running, reading }
}

const labels = (frames: readonly Frame[]): string[] => frames.map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))

/**
 * Runs `task` on the question `old`; when the reader gets the text `trigger` it interrupts and asks `new`, then ends.
 * The labels of what the reader got, split at the `startInterruption`.
 */
async function interruptOnRead(task: PipelineTask, trigger: string): Promise<{ before: string[]; after: string[] }> {
  const out: Frame[] = []
  const reading = (async () => {
    for await (const f of task.frames()) {
      out.push(f)
      if (f.kind === 'data' && f.type === 'text' && f.text === trigger) {
        expect(task.interrupt()).toBe(true)
        void task.queueFrames([Frames.text('new'), Frames.end()])
      }
    }
  })()
  const running = task.run()
  await task.queueFrame(Frames.text('old'))
  expect((await running).status).toBe('ended')
  await reading
  const seen = labels(out)
  const at = seen.indexOf('startInterruption')
  return { before: seen.slice(0, at), after: seen.slice(at + 1) }
}

describe('interruption epochs: processors that read and produce concurrently', () => {
  it('words stamped with the epoch of their question are dropped after an interruption, though the pump keeps reading', async () => {
    const log = { produced: 0 }
    const { task, out, reports, running, reading } = startTask(concurrentTalker(40, true, log))
    await task.queueFrame(Frames.text('old'))
    await until(() => out.filter((f) => f.type === 'text').length >= 3)
    task.interrupt()
    const before = out.filter((f) => f.type === 'text').length
    const at0 = (): number => before
    await task.queueFrame(Frames.text('new'))
    // The old answer keeps streaming (its loop ignores the signal): wait until it is over.
    await until(() => log.produced >= 80 && out.filter((f) => f.type === 'text').length >= at0() + 40)
    const seen = labels(out)
    const at = seen.indexOf('startInterruption')
    expect(at).toBeGreaterThan(0)
    const after = seen.slice(at + 1)
    expect(after.filter((l) => l.startsWith('old:'))).toEqual([])
    expect(after.filter((l) => l.startsWith('new:'))).toHaveLength(40)
    expect(task.staleFrames).toBe(40 - seen.slice(0, at).filter((l) => l.startsWith('old:')).length)
    // The report of the interrupted turn lists what the sink took and the stale words dropped before it went out.
    const first = reports.find((r) => r.data.epoch === 0)!.data
    expect(first.delivered.map((d) => d.text)).toEqual(seen.slice(0, at).filter((l) => l.startsWith('old:')))
    expect(first.dropped.every((d) => d.text?.startsWith('old:'))).toBe(true)
    // Old words dropped after that report never count against the next turn: its report is exactly the new answer.
    expect(task.interrupt()).toBe(true)
    task.stopWhenDone()
    expect((await running).status).toBe('ended')
    await reading
    const second = reports.find((r) => r.data.epoch === 1)!.data
    expect(second.deliveredCount).toBe(40)
    expect(second.droppedCount).toBe(0)
    expect(second.deliveredText).toBe(Array.from({ length: 40 }, (_, i) => `new:w${i}`).join(''))
  })

  it('a word already on its way out when the reader interrupts (same run of microtasks) is dropped too', async () => {
    // The producer pushes a whole answer at once: when the reader takes the third word and interrupts on the spot, the
    // next words have been yielded by the processor but not yet taken by its stage (the stage sees them only after).
    const burst: ProcessorFn = (source, ctx) => {
      const out = pushable<Frame>({ objectMode: true })
      void (async () => {
        let answered: Promise<void> = Promise.resolve()
        try {
          for await (const f of source) {
            if (f.kind === 'control' && f.type === 'end') await answered
            if (f.kind !== 'data' || f.type !== 'text') {
              out.push(f)
              continue
            }
            const epoch = currentEpoch(ctx)
            answered = new Promise((resolve) =>
              setTimeout(() => {
                for (let i = 0; i < 8; i++) out.push(stampEpoch(ctx, Frames.text(`${f.text}:w${i}`), epoch))
                resolve()
              }, 1),
            )
          }
        } finally {
          out.end()
        }
      })()
      return out
    }
    const task = new PipelineTask(pipeline(burst), { allowInterruptions: true, outputCapacity: 1 })
    const { before, after } = await interruptOnRead(task, 'old:w2')
    expect(before).toEqual(['start', 'old:w0', 'old:w1', 'old:w2'])
    expect(after).toEqual([...Array.from({ length: 8 }, (_, i) => `new:w${i}`), 'end'])
  })

  it('without stamps the same processor leaks the old answer (the stage sees only reads)', async () => {
    // Documents why stamps exist: the pump has read after the interruption, so by the stage's own rule what comes out
    // is fresh. This is the behaviour a processor gets when it does not state the epochs of its output.
    const log = { produced: 0 }
    const { task, out, running, reading } = startTask(concurrentTalker(20, false, log))
    await task.queueFrame(Frames.text('old'))
    await until(() => out.filter((f) => f.type === 'text').length >= 3)
    task.interrupt()
    await until(() => log.produced >= 20)
    task.stopWhenDone()
    await running
    await reading
    const seen = labels(out)
    expect(seen.slice(seen.indexOf('startInterruption') + 1).some((l) => l.startsWith('old:'))).toBe(true)
  })

  it('mapConcurrent: the rest of a multi-frame result does not follow startInterruption', async () => {
    const stage = mapConcurrent(async (f) => {
      if (f.kind !== 'data' || f.type !== 'text') return f
      await new Promise((resolve) => setTimeout(resolve, 1))
      return Array.from({ length: 6 }, (_, i) => Frames.text(`${f.text}:p${i}`))
    })
    const reports: InterruptionReportFrame[] = []
    // outputCapacity 1: the stage is suspended in the middle of the result when the reader interrupts.
    const task = new PipelineTask(pipeline(stage), {
      allowInterruptions: true,
      outputCapacity: 1,
      onUpstream: (f) => {
        if (isInterruptionReport(f)) reports.push(f)
      },
    })
    const { before, after } = await interruptOnRead(task, 'old:p0')
    expect(before).toEqual(['start', 'old:p0'])
    expect(after).toEqual(['new:p0', 'new:p1', 'new:p2', 'new:p3', 'new:p4', 'new:p5', 'end'])
    const report = reports.find((r) => r.data.epoch === 0)!.data
    expect(report.deliveredText).toBe('old:p0')
    expect(report.deliveredCount + report.droppedCount).toBe(6)
  })


  it('mapConcurrent: results dropped by an interruption count in its report (delivered + dropped = produced)', async () => {
    let produced = 0
    const finished = new Set<string>()
    const delays: Record<string, number> = { a: 40, b: 1, c: 1, d: 1, e: 1 }
    // Ignores its signal: every call that started returns its two frames.
    const stage = mapConcurrent(
      async (f) => {
        if (f.kind !== 'data' || f.type !== 'text') return f
        await new Promise((resolve) => setTimeout(resolve, delays[f.text] ?? 1))
        produced += 2
        finished.add(f.text)
        return [Frames.text(`${f.text}1 `), Frames.text(`${f.text}2 `)]
      },
      { concurrency: 3, window: 8 },
    )
    const { task, out, reports, running, reading } = startTask(stage)
    await task.queueFrames(['x', 'a', 'b', 'c', 'd', 'e'].map((t) => Frames.text(t)))
    // `x` reaches the sink; `b` and `c` have finished and wait behind `a`, which is still running.
    await until(() => finished.has('b') && finished.has('c') && out.some((f) => f.type === 'text'))
    expect(finished.has('a')).toBe(false)
    task.interrupt()
    // `a` returns after the interruption (it ignores its signal): its frames are dropped too, and the report waits.
    await until(() => finished.has('a') && reports.length > 0)
    task.stopWhenDone()
    expect((await running).status).toBe('ended')
    await reading
    const seen = labels(out)
    expect(seen.slice(seen.indexOf('startInterruption') + 1)).toEqual(['end'])
    const report = reports.find((r) => r.data.epoch === 0)!.data
    expect(report.deliveredText).toBe('x1 x2 ')
    expect(report.droppedText).toContain('a1 a2 ')
    expect(report.droppedText).toContain('b1 b2 ')
    expect(report.deliveredCount + report.droppedCount).toBe(produced)
  })

  it('stampEpoch: a typed error for a bad epoch or a value that is not a frame; nothing recorded outside a run with interruptions', () => {
    const f = Frames.text('x')
    expect(() => stampEpoch(undefined, f, -1)).toThrow(TypeError)
    expect(() => stampEpoch(undefined, f, 1.5)).toThrow(TypeError)
    expect(() => stampEpoch(undefined, f, Number.NaN)).toThrow(TypeError)
    expect(() => stampEpoch(undefined, null as unknown as Frame, 0)).toThrow(TypeError)
    expect(stampEpoch(undefined, f, 0)).toBe(f)
    expect(currentEpoch(undefined)).toBe(0)
  })

  it('a stamp can only make a frame stale: a processor that has not read since the interruption stays stale whatever it states', async () => {
    // Ignores its signal and states the current epoch (wrongly) for words of a question read before the interruption.
    const liar: ProcessorFn = async function* liar(source, ctx) {
      for await (const f of source) {
        if (f.kind !== 'data' || f.type !== 'text') {
          yield f
          continue
        }
        for (let i = 0; i < 10; i++) {
          await new Promise((resolve) => setTimeout(resolve, 1))
          yield stampEpoch(ctx, Frames.text(`${f.text}:w${i}`), currentEpoch(ctx))
        }
      }
    }
    const { task, out, running, reading } = startTask(liar)
    await task.queueFrame(Frames.text('old'))
    await until(() => out.some((f) => f.type === 'text'))
    task.interrupt()
    await task.queueFrame(Frames.text('new'))
    await until(() => out.filter((f) => f.kind === 'data' && f.type === 'text' && f.text.startsWith('new:')).length === 10)
    task.stopWhenDone()
    expect((await running).status).toBe('ended')
    await reading
    const seen = labels(out)
    expect(seen.slice(seen.indexOf('startInterruption') + 1).filter((l) => l.startsWith('old:'))).toEqual([])
  })
})
