import { describe, expect, it, vi } from 'vitest'
import {
  Frames,
  PipelineTask,
  isInterruptionReport,
  pipeline,
  playback,
  toCallback,
  toWritableStream,
  userIdle,
  type Frame,
  type InterruptionReport,
  type Processor,
} from '../../lib/index.js'
import { deferred, tick } from '../helpers/collect.js'

async function until(cond: () => boolean, turns = 500): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await tick()
  expect(cond()).toBe(true)
}

/** Streams the words of every text frame it reads. */
const speak: Processor = async function* speak(source) {
  for await (const f of source) {
    if (f.kind === 'data' && f.type === 'text') for (const w of f.text.split(' ')) yield Frames.text(`${w} `)
    else yield f
  }
}

function reporting(processor: Processor) {
  const reports: InterruptionReport[] = []
  const task = new PipelineTask(processor, {
    allowInterruptions: true,
    onUpstream: (f) => {
      if (isInterruptionReport(f)) reports.push(f.data)
    },
  })
  const output = task.frames()
  const reading = (async () => {
    for await (const f of output) void f
  })()
  const running = task.run()
  return {
    task,
    reports,
    async finish() {
      task.stopWhenDone()
      await running
      await reading
    },
  }
}

describe('delivery marks', () => {
  it('toCallback: a frame is delivered once the callback acknowledged it; the one aborted by the interruption is dropped', async () => {
    const acks: Array<() => void> = []
    const heard: string[] = []
    const sink = toCallback(
      (f, { signal }) =>
        new Promise<void>((resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
          acks.push(() => {
            if (f.kind === 'data' && f.type === 'text') heard.push(f.text)
            resolve()
          })
        }),
    )
    const run = reporting(pipeline(speak, sink))
    await run.task.queueFrame(Frames.text('one two three four'))
    await until(() => acks.length === 1)
    acks.shift()?.()
    await until(() => acks.length === 1)
    acks.shift()?.()
    await until(() => acks.length === 1)
    run.task.interrupt() // 'three' is with the callback, which gives up on the abort
    await until(() => run.reports.length === 1)
    const report = run.reports[0] as InterruptionReport
    expect(report.deliveredText).toBe('one two ')
    expect(heard).toEqual(['one ', 'two '])
    expect(report.droppedText).toBe('three four ')
    await run.finish()
  })

  it('toWritableStream: delivered once the write resolved', async () => {
    const writes: Array<() => void> = []
    const stream = new WritableStream<Frame>({ write: () => new Promise<void>((resolve) => writes.push(resolve)) }, { highWaterMark: 1 })
    const run = reporting(pipeline(speak, toWritableStream(stream, { close: false })))
    await run.task.queueFrame(Frames.text('a b c'))
    await until(() => writes.length === 1)
    writes.shift()?.()
    await until(() => writes.length === 1)
    run.task.interrupt() // 'b' is being written: the stream finishes it; 'c' is never written
    writes.shift()?.()
    await until(() => run.reports.length === 1)
    expect(run.reports[0]?.deliveredText).toBe('a b ')
    expect(run.reports[0]?.droppedText).toBe('c ')
    await run.finish()
  })

  it('playback: accepted frames count as delivered only once played; an interruption flushes the player', async () => {
    const queue: Frame[] = []
    const flush = vi.fn(() => queue.splice(0))
    const speaker = playback({ play: (f) => void queue.push(f), flush })
    const run = reporting(pipeline(speak, speaker.sink))
    await run.task.queueFrame(Frames.text('hello there my friend'))
    await until(() => queue.length === 4)
    speaker.played(queue.shift() as Frame)
    speaker.played((queue.shift() as Frame).id)
    expect(speaker.pending).toBe(2)
    run.task.interrupt()
    expect(flush).toHaveBeenCalledTimes(1)
    expect(speaker.pending).toBe(0)
    await until(() => run.reports.length === 1)
    expect(run.reports[0]?.deliveredText).toBe('hello there ')
    expect(run.reports[0]?.droppedText).toBe('my friend ')
    expect(() => speaker.played('x' as unknown as number)).toThrow(TypeError)
    await run.finish()
  })

  it('the reader of task.frames() is the sink when no sink in the pipeline marks deliveries', async () => {
    const gate = deferred()
    const held: Processor = async function* held(source) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text === 'late ') await gate.promise
        yield f
      }
    }
    const run = reporting(pipeline(speak, held))
    await run.task.queueFrame(Frames.text('early late'))
    await tick()
    await tick()
    run.task.interrupt()
    gate.resolve()
    await until(() => run.reports.length === 1)
    expect(run.reports[0]?.deliveredText).toBe('early ')
    expect(run.reports[0]?.droppedText).toBe('late ')
    await run.finish()
  })
})

describe("userIdle({ measureFrom: 'delivery' })", () => {
  it('measures silence from the last delivered bot output, not from the last user frame', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      for (const measureFrom of ['input', 'delivery'] as const) {
        const fired: number[] = []
        const started = Date.now()
        let clock = 0
        const queued: Frame[] = []
        const speaker = playback({ play: (f) => void queued.push(f) })
        const nudge = userIdle({ timeoutMs: 1000, measureFrom, onIdle: () => void fired.push(clock) })
        const task = new PipelineTask(pipeline(nudge, speak, speaker.sink), { allowInterruptions: true })
        const running = task.run()
        await task.queueFrame(Frames.text('a long answer being played'))
        for (let i = 0; i < 10; i++) await tick()
        // The player reports a word played every 400 ms: the user is listening, not idle.
        expect(queued).toHaveLength(5)
        for (const word of queued) {
          clock += 400
          await vi.advanceTimersByTimeAsync(400)
          speaker.played(word)
        }
        void started
        task.stopWhenDone()
        await vi.advanceTimersByTimeAsync(10)
        await running
        if (measureFrom === 'input') expect(fired.length).toBeGreaterThan(0)
        else expect(fired).toEqual([])
      }
    } finally {
      vi.useRealTimers()
    }
  })
})
