/**
 * `run()` pulls the pipeline itself (no driver loop): ready frames reach the consumer in the same call, the pipeline
 * advances only while the consumer reads, timers still run under an endless always-ready input, and an interruption
 * still reaches a consumer that waits on a busy stage at once. Runs of fused `map`s execute as one loop: errors and
 * values that are not frames are still reported naming the map that produced them.
 */
import { describe, expect, it } from 'vitest'
import { Frames, map, pipeline, run, tap, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { sleep, textFrames, texts, types } from '../helpers/collect.js'

describe('run() pull mode', () => {
  it('the pipeline advances only while the consumer reads: nothing is produced ahead into the output queue', async () => {
    let produced = 0
    const counter: Processor = async function* counter(source) {
      for await (const f of source) {
        if (f.type === 'text') produced++
        yield f
      }
    }
    const handle = run(pipeline(counter), textFrames(500))
    const it = handle[Symbol.asyncIterator]()
    let read = 0
    while (read < 5) {
      const r = await it.next()
      if (r.done !== true && r.value.type === 'text') read++
    }
    // The consumer pauses: a driver would fill the output queue (64 frames) meanwhile.
    await sleep(30)
    expect(produced).toBeLessThanOrEqual(read + 1)
    await it.return?.()
    expect((await handle.result).status).toBe('cancelled')
  })

  it('frames ready in a fused stage reach the consumer in order, all of them, then end', async () => {
    const handle = run(pipeline(map((f: Frame) => f), tap(() => {})), textFrames(2000))
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    expect(types(out).at(0)).toBe('start')
    expect(types(out).at(-1)).toBe('end')
    expect(texts(out)).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)))
    expect((await handle.result).status).toBe('ended')
  })

  it('an endless always-ready input still lets timers run: an abort from a timer ends the run', async () => {
    function* endless(): Generator<Frame> {
      for (;;) yield Frames.text('x')
    }
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    const handle = run(pipeline(map((f: Frame) => f)), endless(), { signal: controller.signal })
    let n = 0
    for await (const _ of handle) n++
    expect(n).toBeGreaterThan(0)
    expect((await handle.result).status).toBe('cancelled')
  })

  it('an interruption reaches a consumer waiting on a busy stage at once, ahead of that stage output', async () => {
    let release!: () => void
    const busy: ProcessorFn = async function* busy(source) {
      for await (const f of source) {
        if (f.type === 'text') await new Promise<void>((resolve) => (release = resolve))
        yield f
      }
    }
    const handle = run(pipeline(busy), [Frames.text('slow')], { allowInterruptions: true })
    const it = handle[Symbol.asyncIterator]()
    expect((await it.next()).value?.type).toBe('start')
    const waiting = it.next()
    await sleep(10)
    expect(handle.interrupt()).toBe(true)
    expect((await waiting).value?.type).toBe('startInterruption')
    release()
    const rest: Frame[] = []
    for (let r = await it.next(); r.done !== true; r = await it.next()) rest.push(r.value)
    // The busy stage answered input read before the interruption: its output is stale and dropped.
    expect(texts(rest)).toEqual([])
    expect(types(rest).at(-1)).toBe('end')
  })
})

describe('a run of fused maps', () => {
  const maps = (): Processor =>
    pipeline(
      map((f: Frame) => (f.type === 'text' ? Frames.text(`${f.text}a`) : f), 'first'),
      map((f: Frame) => {
        if (f.type === 'text' && f.text === '1a') throw new Error('no 1')
        return f.type === 'text' && f.text === '2a' ? (42 as unknown as Frame) : f
      }, 'second'),
      map((f: Frame) => (f.type === 'text' ? Frames.text(`${f.text}c`) : f), 'third'),
    )

  for (const observed of [false, true]) {
    it(`reports an exception or a non-frame naming the map, drops only that frame${observed ? ' (observed)' : ''}`, async () => {
      const upstream: Frame[] = []
      const seen: string[] = []
      const handle = run(maps(), textFrames(4), {
        onUpstream: (f) => upstream.push(f),
        ...(observed ? { observe: (e) => void (e.type === 'frame' && e.direction === 'down' && seen.push(e.processor)) } : {}),
      })
      const out: Frame[] = []
      for await (const f of handle) out.push(f)
      expect(texts(out)).toEqual(['0ac', '3ac'])
      const errors = upstream.flatMap((f) => (f.type === 'error' ? [f] : []))
      expect(errors.map((e) => e.processor)).toEqual([expect.stringMatching(/second$/), expect.stringMatching(/second$/)])
      expect(errors[0]?.error).toBe('no 1')
      expect(errors[1]?.error).toMatch(/not a frame/)
      if (observed) {
        // Observers get their events through a queue of their own: wait for the last one.
        for (let i = 0; i < 100 && !seen.some((p) => p.endsWith('third')); i++) await sleep(10)
        // Every map's output is observed under its own name.
        expect(seen.some((p) => p.endsWith('first'))).toBe(true)
        expect(seen.some((p) => p.endsWith('third'))).toBe(true)
      }
    })
  }
})
