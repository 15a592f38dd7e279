/**
 * Worker-thread stages in the task lifecycle: the threads are shut down at end, on cancel (cut off mid-frame) and on
 * an early break; interruptions drop results of frames read before them; the frames in the threads are bounded.
 */
import { describe, expect, it } from 'vitest'
import { Frames, pipeline, run, type Frame, type Processor } from '../../lib/index.js'
import { collect, startTask, texts } from '../helpers/collect.js'
import { ANNOUNCE_CHANNEL } from './fixtures/stages.js'
import { IN_TRANSIT_OK, interruptInTransit, inTransitVerdict } from '../helpers/in-transit.js'
import { fixtureStage, trackThreads } from './helpers.js'

/** Resolves with the label once a thread announces it started the frame with that label. */
function started(label: string): { promise: Promise<void>; close: () => void } {
  const channel = new BroadcastChannel(ANNOUNCE_CHANNEL)
  const promise = new Promise<void>((resolve) => {
    channel.onmessage = (event: MessageEvent) => {
      if (event.data === label) resolve()
    }
  })
  return { promise, close: () => channel.close() }
}


describe('inWorker lifecycle', () => {
  it('shuts its threads down when the run ends', async () => {
    const tracked = trackThreads()
    const { out, result } = await collect(fixtureStage('upper', { threads: 2 }), [Frames.text('a'), Frames.text('b')])
    expect(result.status).toBe('ended')
    expect(texts(out)).toEqual(['A', 'B'])
    expect(tracked.started()).toBe(2)
    expect(tracked.running()).toBe(0)
  })

  it('cancel cuts off a frame in the middle of its work and terminates the threads', async () => {
    const tracked = trackThreads()
    const announce = started('long')
    try {
      const { task, finish } = startTask(fixtureStage('announced'))
      await task.queueFrames([Frames.text('60000:long'), Frames.text('1:next')])
      await announce.promise
      const t0 = performance.now()
      task.cancel()
      const result = await finish()
      expect(result.status).toBe('cancelled')
      // The frame was to spin for a minute; the cancel did not wait for it (a generous bound for a loaded machine).
      expect(performance.now() - t0).toBeLessThan(15_000)
      expect(result.errors).toEqual([])
      expect(tracked.running()).toBe(0)
    } finally {
      announce.close()
    }
  })

  it('a cancel while the threads are still starting ends the run cancelled, with no error, and shuts them down', async () => {
    const tracked = trackThreads()
    const { task, out, finish } = startTask(fixtureStage('upper', { threads: 2 }))
    await task.queueFrames([Frames.text('never')])
    for (let i = 0; i < 2000 && tracked.started() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(tracked.started()).toBe(2)
    task.cancel()
    const result = await finish()
    expect(result.status).toBe('cancelled')
    expect(result.errors).toEqual([])
    expect(texts(out)).toEqual([])
    expect(tracked.running()).toBe(0)
  })

  it('an early break out of run() shuts the threads down', async () => {
    const tracked = trackThreads()
    let produced = 0
    // A live source (one frame per event-loop turn), as a microphone or a socket is.
    async function* endless(): AsyncGenerator<Frame> {
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve))
        produced++
        yield Frames.text(`t${produced}`)
      }
    }
    const handle = run(fixtureStage('same', { maxInFlight: 2 }), endless())
    const seen: string[] = []
    for await (const f of handle) {
      if (f.kind === 'data' && f.type === 'text') seen.push(f.text)
      if (seen.length === 5) break
    }
    expect(seen).toEqual(['t1', 't2', 't3', 't4', 't5'])
    expect(produced).toBeGreaterThanOrEqual(5)
    expect((await handle.result).status).toBe('cancelled')
    expect(tracked.started()).toBe(1)
    expect(tracked.running()).toBe(0)
  })

  it('an interruption drops the results of frames read before it; frames after it are handled', async () => {
    const announce = started('a')
    try {
      const { task, out, finish } = startTask(fixtureStage('announced'), { allowInterruptions: true })
      await task.queueFrames([Frames.text('300:a'), Frames.text('300:b')])
      await announce.promise
      expect(task.interrupt()).toBe(true)
      await task.queueFrames([Frames.text('1:c'), Frames.end()])
      const result = await finish()
      expect(result.status).toBe('ended')
      expect(texts(out)).toEqual(['c'])
      const kinds = out.map((f) => f.type)
      expect(kinds.indexOf('startInterruption')).toBeGreaterThan(-1)
      expect(kinds.indexOf('startInterruption')).toBeLessThan(kinds.indexOf('text'))
    } finally {
      announce.close()
    }
  })

  it('a frame handed over just before an interruption is never sent to a thread and emitted after it', async () => {
    // The interruption comes 0, 1 or 2 microtasks after the hand-over: between the hand-over and the moment the stage's
    // read loop takes the frame into its window (each of them failed while the loop took the epoch of that moment).
    for (let hops = 0; hops < 3; hops++) {
      expect(inTransitVerdict(await interruptInTransit(fixtureStage('same'), hops))).toEqual({ ...IN_TRANSIT_OK, hops })
    }
  })

  it('holds at most a bounded number of frames while the threads are busy', async () => {
    const announce = started('first')
    let pulled = 0
    const counting: Processor = async function* counting(source) {
      for await (const f of source) {
        if (f.kind === 'data') pulled++
        yield f
      }
    }
    try {
      const { task, finish } = startTask(pipeline(counting, fixtureStage('announced', { maxInFlight: 2 })))
      const frames = [Frames.text('60000:first'), ...Array.from({ length: 200 }, (_, i) => Frames.text(`1:${i}`))]
      const queueing = task.queueFrames(frames)
      await announce.promise
      await new Promise((resolve) => setTimeout(resolve, 300))
      // maxInFlight 2: two frames in the pool and as many finished or waiting behind them, plus the one being read.
      expect(pulled).toBeGreaterThanOrEqual(1)
      expect(pulled).toBeLessThanOrEqual(5)
      task.cancel()
      await queueing.catch(() => undefined)
      expect((await finish()).status).toBe('cancelled')
    } finally {
      announce.close()
    }
  })
})
