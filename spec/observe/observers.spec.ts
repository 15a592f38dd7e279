import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineTask,
  filter,
  map,
  named,
  parallel,
  pipeline,
  run,
  type Frame,
  type FrameEvent,
  type Observer,
  type ObserverEvent,
  type Processor, type ProcessorFn,
} from '../../lib/index.js'
import { sleep } from '../helpers/collect.js'

const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f), 'upper')
const exclaim = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`${f.text}!`) : f), 'exclaim')
const slowEcho: Processor = async function* echo(source) {
  for await (const f of source) {
    if (f.kind === 'data') await sleep(1)
    yield f
  }
}

function recorder(): { events: ObserverEvent[]; observe: (e: ObserverEvent) => void } {
  const events: ObserverEvent[] = []
  return { events, observe: (e) => void events.push(e) }
}

const frameEvents = (events: readonly ObserverEvent[]): FrameEvent[] => events.filter((e): e is FrameEvent => e.type === 'frame')
const textAt = (events: readonly ObserverEvent[], processor: string): string[] =>
  frameEvents(events).flatMap((e) => (e.processor === processor && e.at === 'processor' && e.frame.kind === 'data' && e.frame.type === 'text' ? [e.frame.text] : []))

describe('observers', () => {
  it('see every frame as it leaves each processor (fused steps too), the input, the output and the lifecycle', async () => {
    const rec = recorder()
    const task = new PipelineTask(pipeline(upper, exclaim, slowEcho), { name: 'T', observe: rec.observe })
    const out: Frame[] = []
    const reading = (async () => {
      for await (const f of task.frames()) out.push(f)
    })()
    await task.queueFrames([Frames.text('a'), Frames.text('b')])
    task.stopWhenDone()
    const result = await task.run()
    await reading
    await task.observersIdle()
    expect(task.observerStats()[0]?.dropped).toBe(0)
    const events = rec.events
    expect(result.status).toBe('ended')
    expect(events[0]?.type).toBe('started')
    expect(events.at(-1)).toMatchObject({ type: 'ended', status: 'ended', task: 'T' })
    expect(textAt(events, 'T/upper')).toEqual(['A', 'B'])
    expect(textAt(events, 'T/exclaim')).toEqual(['A!', 'B!'])
    expect(textAt(events, 'T/echo')).toEqual(['A!', 'B!'])
    const inputs = frameEvents(events).filter((e) => e.at === 'input').map((e) => e.frame.type)
    expect(inputs).toEqual(['start', 'text', 'text', 'end'])
    const outputs = frameEvents(events).filter((e) => e.at === 'output').map((e) => e.frame)
    expect(outputs.map((f) => f.id)).toEqual(out.map((f) => f.id))
    // Each processor sees start and end leave it, in order, with increasing times.
    for (const p of ['T/upper', 'T/exclaim', 'T/echo']) {
      const mine = frameEvents(events).filter((e) => e.processor === p)
      expect(mine[0]?.frame.type).toBe('start')
      expect(mine.at(-1)?.frame.type).toBe('end')
      for (let i = 1; i < mine.length; i++) expect((mine[i] as FrameEvent).time).toBeGreaterThanOrEqual((mine[i - 1] as FrameEvent).time)
      expect(mine.every((e) => e.direction === 'down' && e.session === mine[0]?.session)).toBe(true)
    }
  })

  it('name processors by their path inside parallel branches and report upstream frames once, where they were pushed', async () => {
    const rec = recorder()
    const fragile = map((f) => {
      if (f.kind === 'data' && f.type === 'text' && f.text === 'boom') throw new Error('no boom')
      return f
    }, 'fragile')
    const bot = pipeline(named('fan', parallel([upper], [named('inner', pipeline(fragile, exclaim))])))
    const handle = run(bot, [Frames.text('boom'), Frames.text('x')], { name: 'P', observe: { name: 'rec', onEvent: rec.observe } })
    for await (const _ of handle) void _
    expect((await handle.result).errors).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 20))
    expect(textAt(rec.events, 'P/fan/branch0/upper')).toEqual(['BOOM', 'X'])
    expect(textAt(rec.events, 'P/fan/branch1/inner/exclaim')).toEqual(['x!'])
    const ups = frameEvents(rec.events).filter((e) => e.direction === 'up')
    expect(ups).toHaveLength(1)
    expect(ups[0]).toMatchObject({ processor: 'P/fan/branch1/inner/fragile', at: 'processor' })
    expect(ups[0]?.frame.type).toBe('error')
  })

  it('see the steps of a fused run up to the one that failed, in order, before the failure is reported', async () => {
    const rec = recorder()
    const tag = (label: string) => map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`${f.text}${label}`) : f), label)
    const middle = map((f) => {
      if (f.kind === 'data' && f.type === 'text' && f.text === 'boom-a') throw new Error('no boom')
      if (f.kind === 'data' && f.type === 'text' && f.text === 'bad-a') return 'not a frame' as never
      return f
    }, 'middle')
    const handle = run(pipeline(tag('-a'), middle, tag('-c')), ['ok', 'boom', 'bad', 'fine'].map((t) => Frames.text(t)), { name: 'F', observe: rec.observe })
    for await (const _ of handle) void _
    expect((await handle.result).errors).toHaveLength(2)
    await sleep(20)
    const seen = frameEvents(rec.events).flatMap((e) =>
      e.at === 'processor' && ((e.frame.kind === 'data' && e.frame.type === 'text') || e.direction === 'up')
        ? [`${e.processor.slice(2)}:${e.frame.kind === 'data' && e.frame.type === 'text' ? e.frame.text : e.frame.type}`]
        : [],
    )
    expect(seen).toEqual([
      '-a:ok-a', 'middle:ok-a', '-c:ok-a-c',
      '-a:boom-a', 'middle:error',
      '-a:bad-a', 'middle:error',
      '-a:fine-a', 'middle:fine-a', '-c:fine-a-c',
    ])
  })

  it('can be attached to a running task and detached again', async () => {
    const rec = recorder()
    const task = new PipelineTask(pipeline(slowEcho), { name: 'late' })
    const reading = (async () => {
      for await (const _ of task.frames()) void _
    })()
    const done = task.run()
    await task.queueFrame(Frames.text('before'))
    await sleep(20)
    const handle = task.observe(rec.observe)
    await task.queueFrame(Frames.text('during'))
    await sleep(20)
    await handle.idle()
    handle.detach()
    await task.queueFrame(Frames.text('after'))
    task.stopWhenDone()
    await done
    await reading
    expect(textAt(rec.events, 'late/echo')).toEqual(['during'])
    expect(rec.events.some((e) => e.type === 'ended')).toBe(false)
  })

  it('a slow observer loses events, counted, and does not slow the task', async () => {
    let seen = 0
    const slow = { name: 'slow', capacity: 8, onEvent: () => sleep(5).then(() => void seen++) }
    const frames = Array.from({ length: 300 }, (_, i) => Frames.text(String(i)))
    const handle = run(pipeline(upper, exclaim), frames, { observe: slow })
    const t0 = performance.now()
    let n = 0
    for await (const f of handle) if (f.kind === 'data') n++
    const elapsed = performance.now() - t0
    expect(n).toBe(300)
    // Delivering every event (> 1200) at 5 ms each would take seconds; the run does not wait for the observer.
    expect(elapsed).toBeLessThan(1500)
    expect((await handle.result).status).toBe('ended')
  })

  it('reports stats: delivered + dropped + queued = events offered', async () => {
    const task = new PipelineTask(pipeline(upper, exclaim), { name: 'S' })
    const slow = task.observe({ name: 'slow', capacity: 4, onEvent: () => sleep(2) })
    const all = recorder()
    const fast = task.observe(all.observe)
    const reading = (async () => {
      for await (const _ of task.frames()) void _
    })()
    await task.queueFrames(Array.from({ length: 50 }, () => Frames.text('x')))
    task.stopWhenDone()
    await task.run()
    await reading
    await fast.idle()
    const total = all.events.length
    const s = slow.stats()
    expect(s.name).toBe('slow')
    expect(s.dropped).toBeGreaterThan(0)
    expect(s.maxQueued).toBeLessThanOrEqual(4)
    expect(s.delivered + s.dropped + s.queued).toBe(total)
    await slow.idle()
    expect(slow.stats().queued).toBe(0)
    expect(fast.stats()).toMatchObject({ dropped: 0, delivered: total, failures: 0 })
    expect(task.observerStats().map((x) => x.name)).toEqual(['slow', all.observe.name])
  })

  it('an observer that throws is reported once as a non-fatal error and never ends the task', async () => {
    const upstream: Frame[] = []
    let calls = 0
    const task = new PipelineTask(pipeline(upper), {
      name: 'E',
      onUpstream: (f) => upstream.push(f),
      observe: [
        {
          name: 'broken',
          onEvent: () => {
            calls++
            throw new Error('observer bug')
          },
        },
        { name: 'rejecting', onEvent: () => Promise.reject(new Error('async observer bug')) },
      ],
    })
    const reading = (async () => {
      const out: Frame[] = []
      for await (const f of task.frames()) out.push(f)
      return out
    })()
    const done = task.run()
    await task.queueFrames([Frames.text('a'), Frames.text('b')])
    await sleep(20)
    task.stopWhenDone()
    const result = await done
    const out = await reading
    await task.observersIdle()
    expect(result.status).toBe('ended')
    expect(out.filter((f) => f.kind === 'data')).toHaveLength(2)
    const reported = result.errors.map((e) => e.processor)
    expect(reported).toEqual(['E.observe(broken)', 'E.observe(rejecting)'])
    expect(result.errors[0]?.error).toContain('observer bug')
    expect(upstream.filter((f) => f.type === 'error')).toHaveLength(2)
    const stats = task.observerStats()
    expect(calls).toBeGreaterThan(2)
    expect(stats[0]?.failures).toBe(calls)
    expect(stats[0]?.firstError).toBe('observer bug')
  })

  it('reports interruptions and the final status', async () => {
    const rec = recorder()
    const task = new PipelineTask(pipeline(slowEcho), { name: 'I', allowInterruptions: true, observe: rec.observe })
    const reading = (async () => {
      for await (const _ of task.frames()) void _
    })()
    const done = task.run()
    await task.queueFrame(Frames.text('x'))
    task.interrupt()
    await sleep(5)
    await task.cancel()
    await done
    await reading
    await sleep(20)
    const kinds = rec.events.filter((e) => e.type !== 'frame').map((e) => e.type)
    expect(kinds).toEqual(['started', 'interrupted', 'ended'])
    expect(rec.events.at(-1)).toMatchObject({ type: 'ended', status: 'cancelled' })
    expect(frameEvents(rec.events).some((e) => e.frame.type === 'startInterruption' && e.processor === 'I/echo')).toBe(true)
  })

  it('cost nothing when none is attached: the run has no tap', async () => {
    const taps: unknown[] = []
    const probe: ProcessorFn = async function* probe(source, ctx) {
      for await (const f of source) {
        taps.push(ctx.runtime.tap)
        yield f
      }
    }
    for await (const _ of run(probe, [Frames.text('x')])) void _
    expect(taps.length).toBeGreaterThan(0)
    expect(taps.every((t) => t === undefined)).toBe(true)
    taps.length = 0
    for await (const _ of run(pipeline(probe, filter(() => true)), [Frames.text('x')], { observe: () => {} })) void _
    expect(taps.length).toBeGreaterThan(0)
    expect(taps.every((t) => t !== undefined)).toBe(true)
  })

  it('leave run() in pull mode: the pipeline advances only as the reader reads, and the observer sees the whole run', async () => {
    const pulled = async (observe: Observer): Promise<{ ahead: number; events: ObserverEvent[] }> => {
      let mapped = 0
      const counting = map((f) => {
        mapped++
        return f
      }, 'counting')
      const rec = recorder()
      const texts = Array.from({ length: 200 }, (_, i) => Frames.text(`t${i}`))
      const it = run(counting, texts, { name: 'Pull', observe: [rec.observe, observe] })[Symbol.asyncIterator]()
      await it.next()
      await it.next()
      await sleep(20)
      const ahead = mapped
      for (let r = await it.next(); r.done !== true; r = await it.next()) void r
      await sleep(5)
      return { ahead, events: rec.events }
    }
    const plain = await pulled(() => {})
    // Pulled: no more than what was read (start and a text); a driver would have filled the output queue (64).
    expect(plain.ahead).toBeLessThanOrEqual(3)
    expect(plain.events[0]?.type).toBe('started')
    expect(plain.events.at(-1)).toMatchObject({ type: 'ended', status: 'ended' })
    expect(textAt(plain.events, 'Pull/counting')).toHaveLength(200)
    expect(frameEvents(plain.events).filter((e) => e.at === 'output' && e.frame.kind === 'data')).toHaveLength(200)
    // An observer that runs the task's work in a context of its own gets the driver, whose steps start inside it.
    const wrapping = await pulled({ name: 'wraps', onEvent: () => {}, runTask: (_task, fn) => fn() })
    expect(wrapping.ahead).toBeGreaterThan(3)
    expect(textAt(wrapping.events, 'Pull/counting')).toHaveLength(200)
  })

  it('rejects an observer that is not one', () => {
    expect(() => new PipelineTask(upper, { observe: 42 as never })).toThrow(TypeError)
    expect(() => new PipelineTask(upper, { observe: { onEvent: () => {}, capacity: 0 } })).toThrow(/capacity/)
  })
})
