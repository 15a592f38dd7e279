/**
 * A stage that reads its source in a loop of its own (the fan-out of `parallel` / `syncParallel`) can be handed a frame just before an interruption and take it into its queues just after: the frame
 * was on its way, so the interruption could not drop it there. It answers the interrupted turn and must not reach the
 * sink; the interrupted turn's report lists it as dropped.
 */
import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineTask,
  isInterruptionReport,
  mapConcurrent,
  parallel,
  pipeline,
  syncParallel,
  uninterruptible,
  type Frame,
  type InterruptionReport,
  type Processor,
} from '../../lib/index.js'
import { IN_TRANSIT_OK, interruptInTransit, inTransitVerdict } from '../helpers/in-transit.js'

const pass: Processor = async function* pass(source) {
  for await (const f of source) yield f
}

/** Passes only control frames: the other branch's copy of each data frame is the one that goes on. */
const controlOnly: Processor = async function* controlOnly(source) {
  for await (const f of source) if (f.kind === 'control') yield f
}

/**
 * A model that answers each question with `words` words handed over back to back (no await between them), then an
 * uninterruptible tool result. `answered` maps each word's id to the number of interruptions when its question was read.
 */
function model(words: number, interruptions: () => number, answered: Map<number, number>): Processor {
  return async function* model(source) {
    for await (const f of source) {
      if (f.kind !== 'data' || f.type !== 'text') {
        yield f
        continue
      }
      const epoch = interruptions()
      for (let i = 0; i < words; i++) {
        const word = Frames.text(`${f.text}.${i} `)
        answered.set(word.id, epoch)
        yield word
      }
      yield uninterruptible(Frames.app('toolResult', f.text))
    }
  }
}

/**
 * Runs `model → after` with a reader that interrupts as it takes the first word of the first answer (while the next
 * words are being handed over), then checks the sink and the report.
 */
async function interruptOnFirstWord(after: Processor): Promise<void> {
  const answered = new Map<number, number>()
  let interrupts = 0
  const reports: InterruptionReport[] = []
  const task = new PipelineTask(pipeline(model(3, () => interrupts, answered), after), {
    allowInterruptions: true,
    onUpstream: (f) => {
      if (isInterruptionReport(f)) reports.push(f.data)
    },
  })
  const received: { frame: Frame; interrupts: number }[] = []
  const output = task.frames()
  const reading = (async () => {
    for await (const frame of output) {
      received.push({ frame, interrupts })
      if (interrupts === 0 && answered.has(frame.id) && task.interrupt()) interrupts++
    }
  })()
  const running = task.run()
  await task.queueFrame(Frames.text('q0'))
  await task.queueFrame(Frames.text('q1'))
  task.stopWhenDone()
  expect((await running).status).toBe('ended')
  await reading

  expect(interrupts).toBe(1)
  const words = received.filter((r) => answered.has(r.frame.id))
  // No word of the interrupted answer after the interruption.
  const stale = words.filter((r) => (answered.get(r.frame.id) as number) < r.interrupts)
  expect(stale.map((r) => (r.frame as { text?: string }).text)).toEqual([])
  expect(words.map((r) => (r.frame as { text?: string }).text)).toEqual(['q0.0 ', 'q1.0 ', 'q1.1 ', 'q1.2 '])
  // Both tool results arrive, in order.
  expect(received.filter((r) => r.frame.type === 'toolResult').map((r) => (r.frame as { data?: unknown }).data)).toEqual(['q0', 'q1'])
  // The report of the interrupted turn: q0.0 delivered, q0.1 and q0.2 dropped.
  expect(reports).toHaveLength(1)
  const report = reports[0] as InterruptionReport
  expect(report.epoch).toBe(0)
  expect(report.deliveredText).toBe('q0.0 ')
  expect(report.droppedText).toBe('q0.1 q0.2 ')
}

describe('interruption epochs: a frame on its way into a stage that reads in a loop of its own', () => {
  it('parallel: a word handed to the fan-out just before an interruption is dropped, not fanned out after it', async () => {
    await interruptOnFirstWord(parallel(controlOnly, pass))
  })

  it('syncParallel: the same holds in lock-step (the fan-out reads only when its consumer waits)', async () => {
    await interruptOnFirstWord(syncParallel(controlOnly, pass))
  })
})

describe('interruption epochs: a frame of an older turn still inside parallel when a later interruption comes', () => {
  it('is reported dropped in the turn it answers, not in the turn the later interruption closes', async () => {
    const answered = new Map<number, number>()
    let interrupts = 0
    const reports: InterruptionReport[] = []
    /** Takes a macrotask turn on every frame and never looks at its signal: parallel's output queue fills up. */
    const slow: Processor = async function* slow(source) {
      for await (const f of source) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        yield f
      }
    }
    const task = new PipelineTask(pipeline(model(2, () => interrupts, answered), parallel(controlOnly, pass), slow), {
      allowInterruptions: true,
      onUpstream: (f) => {
        if (isInterruptionReport(f)) reports.push(f.data)
      },
    })
    const received: Frame[] = []
    const output = task.frames()
    const reading = (async () => {
      for await (const frame of output) received.push(frame)
    })()
    const running = task.run()
    for (let i = 0; i < 6; i++) await task.queueFrame(Frames.text(`q${i}`))
    await new Promise<void>((resolve) => setImmediate(resolve))
    await task.queueFrame(Frames.text('q6'))
    // Two interruptions in a row: words of the first turn are still on their way through parallel at the second.
    expect(task.interrupt()).toBe(true)
    interrupts++
    await task.queueFrame(Frames.text('q7'))
    expect(task.interrupt()).toBe(true)
    interrupts++
    task.stopWhenDone()
    expect((await running).status).toBe('ended')
    await reading

    expect(reports.map((r) => r.epoch)).toEqual([0, 1])
    const listed = new Set<number>()
    for (const report of reports) {
      for (const e of [...report.delivered, ...report.dropped]) {
        if (!answered.has(e.id)) continue
        // Each word is listed once, in the report of the turn in which its question was read.
        expect({ word: e.text, turn: answered.get(e.id) }).toEqual({ word: e.text, turn: report.epoch })
        expect(listed.has(e.id)).toBe(false)
        listed.add(e.id)
      }
    }
    // Every word of an interrupted turn is listed; none reached the sink.
    const receivedIds = new Set(received.map((f) => f.id))
    for (const [id, turn] of answered) {
      if (turn < interrupts) {
        expect(listed.has(id)).toBe(true)
        expect(receivedIds.has(id)).toBe(false)
      }
    }
  })
})

describe('interruption epochs: a frame on its way into the read loop of mapConcurrent', () => {
  for (const [label, fn] of [
    ['a sync fn', (f: Frame) => f],
    [
      'an async fn',
      async (f: Frame) => {
        await new Promise((resolve) => setTimeout(resolve, 2))
        return f
      },
    ],
  ] as const) {
    it(`with ${label}: a frame handed over before an interruption is never mapped and emitted after it`, async () => {
      // The interruption comes 0, 1, 2, … microtasks after the hand-over: one of them falls between the hand-over and
      // the moment the read loop takes the frame into its window.
      for (let hops = 0; hops < 16; hops++) {
        expect(inTransitVerdict(await interruptInTransit(mapConcurrent(fn, { concurrency: 2 }), hops))).toEqual({ ...IN_TRANSIT_OK, hops })
      }
    })
  }
})
