/**
 * Worker-thread stages send the frames already there to a thread in one message: order, errors, buffers, interruption
 * and cancel hold inside a batch as they do frame by frame.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Frames, pipeline, type ErrorFrame, type Frame } from '../../lib/index.js'
import { detachedContext } from '../../lib/core/context.js'
import { WorkerError } from '../../lib/worker/index.js'
import { collect, startTask, texts, types } from '../helpers/collect.js'
import { announcements, fixtureStage, trackBatches, trackThreads } from './helpers.js'

const errors = (frames: readonly Frame[]): ErrorFrame[] => frames.filter((f): f is ErrorFrame => f.type === 'error')
const audioBytes = (f: Frame | undefined): number[] => (f?.kind === 'data' && f.type === 'audioRaw' ? [...f.audio] : [])

let batches: ReturnType<typeof trackBatches> | undefined
afterEach(() => {
  batches?.restore()
  batches = undefined
})

describe('inWorker batches', () => {
  it('sends frames that are there at once in batches of at most maxBatch, and keeps the order across two threads', async () => {
    batches = trackBatches()
    // Uneven work, so the two threads finish out of order; control frames sit between the data frames.
    const input: Frame[] = []
    for (let i = 0; i < 40; i++) {
      input.push(Frames.text(`${i % 7 === 0 ? 15 : 0}:${i}`))
      if (i % 10 === 9) input.push(Frames.sync())
    }
    const { out, result } = await collect(fixtureStage('busy', { threads: 2, maxInFlight: 12, maxBatch: 3 }), input)
    expect(result.status).toBe('ended')
    expect(texts(out)).toEqual(Array.from({ length: 40 }, (_, i) => String(i)))
    // Each sync frame comes after the ten texts before it and before the next ones.
    const order = out.filter((f) => f.type === 'text' || f.type === 'sync').map((f) => (f.kind === 'data' && f.type === 'text' ? 't' : 's'))
    expect(order.join('')).toBe('tttttttttts'.repeat(4))
    expect(batches.sizes.reduce((a, b) => a + b, 0)).toBe(40)
    expect(Math.max(...batches.sizes)).toBe(3)
    expect(batches.sizes.length).toBeLessThan(40)
  })

  it('an error in a batch names the stage and the frame; the other frames of the batch go on', async () => {
    batches = trackBatches()
    const bad = Frames.text('bad')
    const fatalLater = Frames.text('ok3')
    const { out, up, result } = await collect(pipeline(fixtureStage('fragile', { maxBatch: 8 })), [Frames.text('ok1'), bad, Frames.text('ok2'), fatalLater])
    expect(result.status).toBe('ended')
    expect(batches.sizes).toEqual([4])
    expect(texts(out)).toEqual(['ok1', 'ok2', 'ok3'])
    const [err, ...more] = errors(up)
    expect(more).toEqual([])
    expect(err?.processor).toMatch(/inWorker\(fragile\)$/)
    expect(err?.error).toBe(`bad input (while handling ${bad.name})`)
    expect((err?.cause as WorkerError).frame).toEqual({ id: bad.id, name: bad.name })
  })

  it('moves the buffers of every frame of a batch to the thread and back; views into larger buffers are copied', async () => {
    batches = trackBatches()
    const whole = [new Uint8Array([1, 2]), new Uint8Array([3, 4]), new Uint8Array([5, 6])]
    const big = new Uint8Array(32).fill(7)
    const frames = [...whole.map((audio) => Frames.audioRaw({ audio })), Frames.audioRaw({ audio: big.subarray(4, 6) })]
    const { out } = await collect(fixtureStage('doubleAudio', { maxBatch: 8 }), frames)
    expect(batches.sizes).toEqual([4])
    expect(whole.map((a) => a.buffer.byteLength)).toEqual([0, 0, 0]) // moved, not copied
    expect(big.byteLength).toBe(32)
    expect([...big.subarray(4, 6)]).toEqual([7, 7])
    const back = out.filter((f) => f.type === 'audioRaw')
    expect(back.map(audioBytes)).toEqual([[2, 4], [6, 8], [10, 12], [14, 14]])
    expect(back.map((f) => f.id)).toEqual(frames.map((f) => f.id))
  })

  it('an interruption in the middle of a batch: the thread skips the frames of it not started yet; later frames are handled', async () => {
    batches = trackBatches()
    const heard = announcements()
    try {
      const { task, out, finish } = startTask(fixtureStage('announced', { maxBatch: 8 }), { allowInterruptions: true })
      await task.queueFrames([Frames.text('400:a'), Frames.text('1:b'), Frames.text('1:c')])
      await heard.seen('a')
      expect(task.interrupt()).toBe(true)
      await task.queueFrames([Frames.text('1:d'), Frames.end()])
      const result = await finish()
      await heard.seen('d')
      expect(result.status).toBe('ended')
      expect(batches.sizes[0]).toBe(3)
      expect(heard.labels).toEqual(['a', 'd']) // b and c never ran
      expect(texts(out)).toEqual(['d'])
      expect(types(out).indexOf('startInterruption')).toBeLessThan(types(out).indexOf('text'))
    } finally {
      heard.close()
    }
  })

  it('a cancel in the middle of a batch cuts the running frame off, runs none of the rest, and stops the threads', async () => {
    batches = trackBatches()
    const threads = trackThreads()
    const heard = announcements()
    try {
      const { task, out, finish } = startTask(fixtureStage('announced', { maxBatch: 8 }))
      await task.queueFrames([Frames.text('60000:long'), Frames.text('1:x'), Frames.text('1:y')])
      await heard.seen('long')
      task.cancel()
      const result = await finish()
      expect(result.status).toBe('cancelled')
      expect(result.errors).toEqual([])
      expect(batches.sizes).toEqual([3])
      expect(texts(out)).toEqual([])
      expect(threads.running()).toBe(0)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(heard.labels).toEqual(['long'])
    } finally {
      heard.close()
    }
  })

  it("the results of an answered batch are taken without waiting (tryNext); the end goes through next(), which stops the threads", async () => {
    const tracked = trackThreads()
    const frames = ['a', 'b', 'c', 'd'].map((t) => Frames.text(t))
    const it = fixtureStage('upper')(frames, undefined as never)[Symbol.asyncIterator]() as AsyncIterator<Frame> & {
      tryNext(): IteratorResult<Frame> | undefined
    }
    expect(typeof it.tryNext).toBe('function')
    expect(it.tryNext()).toBeUndefined() // the threads are not started yet
    const first = await it.next()
    expect(texts([(first as IteratorYieldResult<Frame>).value])).toEqual(['A'])
    // The four frames went in one batch and came back in one answer: the other three are there.
    const rest: Frame[] = []
    for (let r = it.tryNext(); r !== undefined && r.done !== true; r = it.tryNext()) rest.push(r.value)
    expect(texts(rest)).toEqual(['B', 'C', 'D'])
    expect(it.tryNext()).toBeUndefined()
    expect(await it.next()).toEqual({ done: true, value: undefined })
    expect(tracked.started()).toBe(1)
    expect(tracked.running()).toBe(0)
  })

  it('an interruption in the middle of a result of several frames: the rest of it is not emitted', async () => {
    const ctx = detachedContext('batches')
    const it = fixtureStage('odd')([Frames.text('two')], ctx)[Symbol.asyncIterator]()
    const first = await it.next()
    expect(texts([(first as IteratorYieldResult<Frame>).value])).toEqual(['two-a'])
    ctx.runtime.interrupt()
    expect(await it.next()).toEqual({ done: true, value: undefined })
  })

  it('a frame that arrives alone goes alone, at once', async () => {
    batches = trackBatches()
    const { task, out, finish } = startTask(fixtureStage('busy'))
    for (let i = 0; i < 5; i++) {
      await task.queueFrame(Frames.text(`0:${i}`))
      // Bounded wait for its result before the next frame comes.
      for (let k = 0; k < 2000 && texts(out).length <= i; k++) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await task.queueFrame(Frames.end())
    expect((await finish()).status).toBe('ended')
    expect(texts(out)).toEqual(['0', '1', '2', '3', '4'])
    expect(batches.sizes).toEqual([1, 1, 1, 1, 1])
  })
})
