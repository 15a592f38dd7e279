import { describe, expect, it } from 'vitest'
import { FatalError, Frames, PipelineTask, mapConcurrent, pipeline, type Frame, type Processor } from '../../lib/index.js'
import { collect, deferred, sleep, startTask, textFrames, texts, tick, types } from '../helpers/collect.js'

const textOf = (f: Frame): string => (f.kind === 'data' && f.type === 'text' ? f.text : '')

describe('mapConcurrent', () => {
  it('keeps input order although calls finish out of order, and never exceeds the concurrency', async () => {
    let running = 0
    let peak = 0
    const p = mapConcurrent(
      async (f) => {
        running++
        peak = Math.max(peak, running)
        const n = Number(textOf(f))
        await sleep((n * 7) % 5)
        running--
        return Frames.text(`${n}*`)
      },
      { concurrency: 3 },
    )
    const { out } = await collect(p, textFrames(30))
    expect(texts(out)).toEqual(Array.from({ length: 30 }, (_, i) => `${i}*`))
    expect(peak).toBeLessThanOrEqual(3)
    expect(peak).toBeGreaterThan(1)
  })

  it('control frames wait for the results before them; system frames pass at once; end drains', async () => {
    const gate = deferred()
    const p = mapConcurrent(async (f) => {
      await gate.promise
      return f
    })
    const task = new PipelineTask(p)
    const out = task.frames()
    const done = task.run()
    await task.queueFrames([Frames.text('a'), Frames.sync(), Frames.text('b')])
    await task.queueFrame(Frames.metrics())
    task.stopWhenDone()
    const got: Frame[] = []
    const reader = (async () => {
      for await (const f of out) got.push(f)
    })()
    await tick()
    await tick()
    expect(types(got)).toEqual(['start', 'metrics'])
    gate.resolve()
    await Promise.all([done, reader])
    expect(types(got)).toEqual(['start', 'metrics', 'text', 'sync', 'text', 'end'])
  })

  it('returning nothing drops a frame, an array emits several', async () => {
    const p = mapConcurrent(async (f) => (textOf(f) === '1' ? undefined : [f, f]))
    const { out } = await collect(p, textFrames(3))
    expect(texts(out)).toEqual(['0', '0', '2', '2'])
  })

  it('an exception drops that frame and goes upstream; a FatalError ends the task', async () => {
    const p = mapConcurrent(async (f) => {
      if (textOf(f) === '1') throw new Error('tts failed')
      return f
    })
    const { out, up, result } = await collect(p, textFrames(3))
    expect(texts(out)).toEqual(['0', '2'])
    expect(up.filter(Frames.is('error')).map((e) => e.error)).toEqual(['tts failed'])
    expect(result.status).toBe('ended')

    const fatal = mapConcurrent(async () => {
      throw new FatalError('quota')
    })
    const r2 = await collect(fatal, textFrames(3)).catch((e: unknown) => e)
    expect(String(r2)).toMatch(/quota/)
  })

  it('an interruption aborts running calls and drops pending results; startInterruption passes ahead', async () => {
    const aborted: string[] = []
    const p = mapConcurrent(
      async (f, { signal }) => {
        try {
          await sleep(textOf(f) === 'fast' ? 0 : 60_000, signal)
        } catch (err) {
          aborted.push(textOf(f))
          throw err
        }
        return f
      },
      { concurrency: 2 },
    )
    const task = new PipelineTask(pipeline(p), { allowInterruptions: true })
    const out = task.frames()
    const done = task.run()
    await task.queueFrames([Frames.text('slow1'), Frames.text('slow2'), Frames.text('slow3')])
    await tick()
    task.interrupt()
    await task.queueFrame(Frames.text('fast'))
    task.stopWhenDone()
    const got: Frame[] = []
    for await (const f of out) got.push(f)
    expect((await done).status).toBe('ended')
    expect(types(got)).toEqual(['start', 'startInterruption', 'text', 'end'])
    expect(texts(got)).toEqual(['fast'])
    expect(aborted.sort()).toEqual(['slow1', 'slow2'])
  })

  it('a frame handed over just before an interruption while the stage waits for its reader is dropped as stale, never mapped nor reported as an error', async () => {
    // The stage is suspended at a `yield` (its reader is busy) when the interruption comes; the frame queued in the
    // same turn is handed to the stage's read loop just before it (the epoch of its read is the interrupted one), and
    // the loop takes it in just after: it answers the interrupted turn, as it would in any stage that read it then.
    const gate = deferred()
    const signals: boolean[] = []
    const mapped: string[] = []
    const mc = mapConcurrent(async (f, { signal }) => {
      signals.push(signal.aborted)
      if (f.kind === 'data' && f.type === 'text') mapped.push(f.text)
      return f
    })
    const busyReader: Processor = async function* (source) {
      for await (const f of source) {
        yield f
        if (f.kind === 'data') await gate.promise
      }
    }
    const { task, out, finish } = startTask(pipeline(mc, busyReader), { allowInterruptions: true })
    await task.queueFrames([Frames.text('a'), Frames.text('b')])
    for (let i = 0; i < 5; i++) await tick()
    const queued = task.queueFrame(Frames.text('c'))
    task.interrupt()
    await queued
    for (let i = 0; i < 5; i++) await tick()
    gate.resolve()
    await task.queueFrame(Frames.text('d'))
    task.stopWhenDone()
    const result = await finish()
    expect(result.errors).toEqual([])
    expect(result.status).toBe('ended')
    expect(mapped).toEqual(['a', 'b', 'd'])
    expect(signals).toEqual([false, false, false])
    // 'b' was finished before the interruption but not yet emitted: dropped. 'c' is stale; 'd' is input of after it.
    expect(task.staleFrames).toBe(1)
    expect(types(out)).toEqual(['start', 'text', 'startInterruption', 'text', 'end'])
    expect(texts(out)).toEqual(['a', 'd'])
  })

  it('a call that fails because its signal aborted is dropped quietly, whatever the call throws', async () => {
    const started = deferred()
    const mc = mapConcurrent(
      (f, { signal }) =>
        new Promise<Frame>((resolve, reject) => {
          if (textOf(f) === 'late') return resolve(f)
          started.resolve()
          // A DOMException-style abort of the caller's own making, raised only once the signal has aborted.
          signal.addEventListener('abort', () => reject(new DOMException('stopped', 'AbortError')), { once: true })
        }),
    )
    const { task, out, finish } = startTask(pipeline(mc), { allowInterruptions: true })
    await task.queueFrame(Frames.text('slow'))
    await started.promise
    task.interrupt()
    await task.queueFrame(Frames.text('late'))
    task.stopWhenDone()
    const result = await finish()
    expect(result.errors).toEqual([])
    expect(texts(out)).toEqual(['late'])
  })

  it('validates its options', () => {
    expect(() => mapConcurrent('x' as never)).toThrow(TypeError)
    expect(() => mapConcurrent(async (f) => f, { concurrency: 0 })).toThrow(TypeError)
    expect(() => mapConcurrent(async (f) => f, { window: 1.5 })).toThrow(TypeError)
  })
})
