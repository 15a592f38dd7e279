/**
 * The task sends an interruption's `startInterruption` straight to its output once the reader has taken `start`, and
 * drops the copy that travels the pipeline. Copies of several interruptions can be on their way at once: the sink sees
 * each interruption's frame exactly once, also the one of an interruption that came before the reader took `start`.
 */
import { describe, expect, it } from 'vitest'
import { Frames, PipelineTask, pipeline, type Frame, type Processor } from '../../lib/index.js'
import { deferred, tick } from '../helpers/collect.js'

describe('interruption epochs: the startInterruption frames the sink sees', () => {
  it('an interruption sent through the pipeline before start was taken reaches the sink, a later one sent ahead once', async () => {
    const gate = deferred()
    const seenByStage: number[] = []
    /** Holds the first startInterruption it reads until the gate opens. */
    const holdFirstInterruption: Processor = async function* holdFirstInterruption(source) {
      for await (const f of source) {
        if (f.type === 'startInterruption') {
          seenByStage.push(f.id)
          if (seenByStage.length === 1) await gate.promise
        }
        yield f
      }
    }
    const task = new PipelineTask(pipeline(holdFirstInterruption), { allowInterruptions: true })
    const it = task.frames()[Symbol.asyncIterator]()
    const running = task.run()
    // Before the reader has taken `start`: this interruption travels the pipeline.
    expect(task.interrupt()).toBe(true)
    const received: Frame[] = []
    const take = async (): Promise<Frame> => {
      const r = await it.next()
      expect(r.done).toBe(false)
      received.push(r.value as Frame)
      return r.value as Frame
    }
    expect((await take()).type).toBe('start')
    for (let i = 0; i < 20 && seenByStage.length === 0; i++) await tick()
    expect(seenByStage).toHaveLength(1)
    // The reader has taken `start`: this one goes straight to the output, while the first is still on its way.
    expect(task.interrupt()).toBe(true)
    expect((await take()).type).toBe('startInterruption')
    gate.resolve()
    await task.queueFrame(Frames.text('after'))
    task.stopWhenDone()
    for (;;) {
      const r = await it.next()
      if (r.done === true) break
      received.push(r.value)
    }
    expect((await running).status).toBe('ended')

    expect(seenByStage).toHaveLength(2)
    const starts = received.filter((f) => f.type === 'startInterruption').map((f) => f.id)
    expect([...starts].sort((a, b) => a - b)).toEqual([...seenByStage].sort((a, b) => a - b))
    expect(received.map((f) => f.type)).toEqual(['start', 'startInterruption', 'startInterruption', 'text', 'end'])
  })
})
