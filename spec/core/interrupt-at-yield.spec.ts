import { describe, expect, it } from 'vitest'
import { Frames, InterruptedError, PipelineTask, type Frame, type ProcessorFn } from '../../lib/index.js'
import { sleep, tick } from '../helpers/collect.js'

describe('a processor suspended at a yield when an interruption comes', () => {
  it('sees the aborted signal when it resumes, even if it reads ctx.signal only then', async () => {
    let produced = 0
    const aborts: unknown[] = []
    const talker: ProcessorFn = async function* talker(source, ctx) {
      for await (const f of source) {
        if (f.kind !== 'data') {
          yield f
          continue
        }
        for (let i = 0; i < 20; i++) {
          try {
            await sleep(1, ctx.signal) // reads ctx.signal afresh before every word
          } catch (err) {
            aborts.push(err)
            throw err
          }
          produced++
          yield Frames.text(`word${i}`)
        }
      }
    }
    const task = new PipelineTask(talker, { allowInterruptions: true, outputCapacity: 1 })
    const output = task.frames()
    await task.queueFrame(Frames.text('go'))
    const done = task.run()
    // Nobody reads the output yet: the talker fills it and stays suspended at a yield.
    let last = -1
    while (produced !== last) {
      last = produced
      await sleep(5)
    }
    const before = produced
    expect(before).toBeLessThan(20)
    task.interrupt()
    task.stopWhenDone()
    const got: Frame[] = []
    for await (const f of output) got.push(f)
    expect((await done).status).toBe('ended')
    const afterInterruption = got.slice(got.findIndex(Frames.is('startInterruption')))
    // At most the output the talker had already handed over when the interruption came.
    expect(produced - before).toBeLessThanOrEqual(1)
    expect(afterInterruption.filter(Frames.is('text')).length).toBeLessThanOrEqual(2)
    expect(aborts).toHaveLength(1)
    expect(aborts[0]).toBeInstanceOf(InterruptedError)
    await tick()
  })

  it('gets a fresh signal again once it reads its source', async () => {
    const states: boolean[] = []
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        states.push(ctx.signal.aborted)
        yield f
      }
    }
    const task = new PipelineTask(p, { allowInterruptions: true, outputCapacity: 1 })
    const output = task.frames()
    await task.queueFrames([Frames.text('a'), Frames.text('b')])
    const done = task.run()
    await sleep(5)
    task.interrupt()
    task.stopWhenDone()
    for await (const _ of output) void _
    await done
    expect(states.every((aborted) => !aborted)).toBe(true)
  })
})
