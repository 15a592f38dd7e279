/**
 * Rule 8 while the pipeline drains after `end`: whatever drops frames sends `startInterruption` ahead, even once the
 * task's own `startInterruption` can no longer come through the (ended) input. It reaches the end once, after `start`.
 */
import { describe, expect, it } from 'vitest'
import { Frames, PipelineTask, buffer, parallel, pipeline, type Frame, type Processor } from '../../lib/index.js'
import { sleep } from '../helpers/collect.js'

const slowText: Processor = async function* slowText(source) {
  for await (const f of source) {
    if (f.type === 'text') await sleep(15)
    yield f
  }
}

async function interruptWhileDraining(body: Processor): Promise<Frame[]> {
  const task = new PipelineTask(body, { allowInterruptions: true, cancelTimeoutMs: 500 })
  const out: Frame[] = []
  const output = task.frames()
  const reading = (async () => {
    for await (const f of output) out.push(f)
  })()
  const done = task.run()
  await task.queueFrames(['a', 'b', 'c', 'd', 'e'].map((t) => Frames.text(t)))
  task.stopWhenDone()
  await sleep(25)
  expect(task.interrupt()).toBe(true)
  expect((await done).status).toBe('ended')
  await reading
  return out
}

describe('an interruption while the pipeline drains after end', () => {
  for (const capacity of [1, 2, 64]) {
    it(`a buffer (capacity ${capacity}) already holding end drops its queue and sends startInterruption ahead`, async () => {
      const out = await interruptWhileDraining(pipeline(buffer({ capacity }), slowText))
      const kinds = out.map((f) => f.type)
      expect(kinds[0]).toBe('start')
      expect(kinds.at(-1)).toBe('end')
      expect(kinds.filter((t) => t === 'startInterruption')).toHaveLength(1)
      expect(kinds.filter((t) => t === 'text').length).toBeLessThan(5)
    })
  }

  it('a parallel element whose input has ended drops its queues and sends startInterruption ahead', async () => {
    const out = await interruptWhileDraining(pipeline(parallel(slowText)))
    const kinds = out.map((f) => f.type)
    expect(kinds[0]).toBe('start')
    expect(kinds.at(-1)).toBe('end')
    expect(kinds.filter((t) => t === 'startInterruption')).toHaveLength(1)
    expect(kinds.filter((t) => t === 'text').length).toBeLessThan(5)
  })

  it('a buffer inside a parallel branch and the element itself: the interruption still reaches the end once', async () => {
    const out = await interruptWhileDraining(pipeline(parallel([buffer({ capacity: 2 }), slowText], [slowText])))
    const kinds = out.map((f) => f.type)
    expect(kinds[0]).toBe('start')
    expect(kinds.filter((t) => t === 'startInterruption')).toHaveLength(1)
    expect(kinds.at(-1)).toBe('end')
  })
})
