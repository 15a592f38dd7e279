import { describe, expect, it } from 'vitest'
import { pipe } from 'it-pipe'
import { parallel } from '../../lib/combinators/parallel.js'
import { BranchDedupe, RecentIds } from '../../lib/combinators/dedupe.js'
import { FatalError, Frames, PipelineTask, filter, pipeline, run, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { collect, deferred, label, mapText, texts, ticks, tracked, untilAborted } from './helpers.js'

const identity: Processor = async function* identity(source) {
  yield* source
}

describe('parallel: fan-out and merge', () => {
  it('delivers every input frame to every branch and keeps each branch in order', async () => {
    const { labels, result } = await collect(
      parallel(mapText((t) => `A${t}`), mapText((t) => `B${t}`), mapText((t) => `C${t}`)),
      texts('1', '2', '3', '4'),
    )
    expect(result.status).toBe('ended')
    for (const b of ['A', 'B', 'C']) expect(labels.filter((l) => l.startsWith(b))).toEqual([`${b}1`, `${b}2`, `${b}3`, `${b}4`])
    expect(labels[0]).toBe('start')
    expect(labels.at(-1)).toBe('end')
    expect(labels.filter((l) => l === 'start' || l === 'end')).toEqual(['start', 'end'])
    expect(labels).toHaveLength(14)
  })

  it('emits a frame object that leaves several branches once', async () => {
    const input = texts('a', 'b', 'c')
    const { frames } = await collect(parallel(identity, identity, pipeline(filter(() => true))), input)
    const ids = frames.map((f) => f.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(frames.filter((f) => f.type === 'text')).toEqual(input)
  })

  it('emits end once, after the output of a slower branch (Python P7)', async () => {
    const slow: Processor = async function* slow(source) {
      for await (const f of source) {
        await ticks(3)
        yield f.type === 'text' ? Frames.text(`slow-${label(f)}`) : f
      }
    }
    const { labels } = await collect(parallel(identity, slow), texts('x', 'y'))
    expect(labels.at(-1)).toBe('end')
    expect(labels.filter((l) => l === 'end')).toHaveLength(1)
    expect(labels).toContain('slow-y')
    expect(labels.indexOf('slow-y')).toBeLessThan(labels.indexOf('end'))
  })

  it('still emits start and end when a branch swallows them or ends early', async () => {
    const textsOnly: Processor = async function* textsOnly(source) {
      for await (const f of source) if (f.type === 'text') yield Frames.text(`t-${label(f)}`)
    }
    const quitter: Processor = async function* quitter() {
      yield Frames.text('bye')
    }
    const { labels, result } = await collect(parallel(textsOnly, quitter, identity), texts('1', '2'))
    expect(result.status).toBe('ended')
    expect(labels[0]).toBe('start')
    expect(labels.at(-1)).toBe('end')
    expect(labels.filter((l) => l === 'start')).toHaveLength(1)
    expect(labels.filter((l) => l === 'end')).toHaveLength(1)
    expect(labels.filter((l) => l !== 'start' && l !== 'end').sort()).toEqual(['1', '2', 'bye', 't-1', 't-2'])
  })

  it('holds the output of a branch that passed start until every branch has passed it', async () => {
    const gate = deferred()
    const greeter: Processor = async function* greeter(source) {
      for await (const f of source) {
        yield f
        if (f.type === 'start') yield Frames.text('hello')
      }
    }
    const lateStarter: Processor = async function* lateStarter(source) {
      for await (const f of source) {
        if (f.type === 'start') await gate.promise
        yield f
      }
    }
    const pending = collect(parallel(greeter, lateStarter), texts('x'))
    await ticks(10)
    gate.resolve()
    const { labels } = await pending
    expect(labels.slice(0, 2)).toEqual(['start', 'hello'])
  })

  it('runs standalone (no task, no start) as a plain it-pipe transform', async () => {
    const out: string[] = []
    await pipe(
      texts('a', 'b'),
      (src) => parallel(mapText((t) => t.toUpperCase()), mapText((t) => `${t}!`))(src as never, undefined as never),
      async (src) => {
        for await (const f of src) out.push(label(f))
      },
    )
    expect(out.sort()).toEqual(['A', 'B', 'a!', 'b!'])
  })

  it('accepts an array of processors as a branch and an options object first', async () => {
    const { labels } = await collect(
      parallel({ capacity: 2, name: 'fan' }, [mapText((t) => `${t}1`), mapText((t) => `${t}2`)], identity),
      texts('x'),
    )
    expect(labels.filter((l) => l !== 'start' && l !== 'end').sort()).toEqual(['x', 'x12'])
  })

  it('rejects bad arguments with a TypeError', () => {
    expect(() => parallel()).toThrow(TypeError)
    expect(() => parallel(42 as never)).toThrow(TypeError)
    expect(() => parallel({ capacity: 0 }, identity)).toThrow(TypeError)
    expect(() => parallel({ dedupeWindow: 1.5 }, identity)).toThrow(TypeError)
    expect(() => parallel([identity, 'x' as never])).toThrow(TypeError)
  })
})

describe('parallel: backpressure and fairness', () => {
  it('a blocked branch stops the input after its buffer is full, and nothing is lost when it resumes', async () => {
    const gate = deferred()
    let pulled = 0
    async function* source(): AsyncGenerator<Frame> {
      for (let i = 0; i < 200; i++) {
        pulled++
        yield Frames.text(String(i))
      }
    }
    const blocked: Processor = async function* blocked(src) {
      for await (const f of src) {
        if (f.type === 'text') await gate.promise
        yield f
      }
    }
    const pending = collect(parallel({ capacity: 4 }, blocked, mapText((t) => `f${t}`)), source())
    await ticks(30)
    // The blocked branch holds 1 frame, its buffer 4; the task input and the outer stages add a bounded few.
    expect(pulled).toBeLessThan(4 + 1 + 64 + 8)
    const pulledWhileBlocked = pulled
    await ticks(30)
    expect(pulled).toBe(pulledWhileBlocked)
    gate.resolve()
    const { labels } = await pending
    expect(labels.filter((l) => /^\d+$/.test(l))).toHaveLength(200)
    expect(labels.filter((l) => l.startsWith('f'))).toHaveLength(200)
  })

  it('a busy branch cannot starve another: both make progress in the merged output', async () => {
    const busy: Processor = async function* busy(source) {
      for await (const f of source) {
        if (f.type !== 'text') {
          yield f
          continue
        }
        for (let i = 0; i < 500; i++) yield Frames.text(`busy${i}`)
      }
    }
    const quiet = mapText((t) => `quiet-${t}`)
    const { labels } = await collect(parallel({ capacity: 4 }, busy, quiet), texts('a'))
    expect(labels.indexOf('quiet-a')).toBeGreaterThan(0)
    expect(labels.indexOf('quiet-a')).toBeLessThan(labels.indexOf('busy499'))
    expect(labels.indexOf('quiet-a')).toBeLessThan(50)
  })
})

describe('parallel: upstream, errors and teardown', () => {
  it('an upstream frame from a branch reaches the earlier stages and the task once', async () => {
    const seenByEarlier: Frame[] = []
    const observer: ProcessorFn = async function* observer(source, ctx) {
      ctx.onUpstream((f, next) => {
        seenByEarlier.push(f)
        next(f)
      })
      yield* source
    }
    const ping = Frames.app('ping', {})
    const pusher: ProcessorFn = async function* pusher(source, ctx) {
      for await (const f of source) {
        if (f.type === 'text') ctx.pushUpstream(ping)
        yield f
      }
    }
    const atTop: Frame[] = []
    await collect(pipeline(observer, parallel(pusher, pusher, identity)), texts('x'), { onUpstream: (f) => atTop.push(f) })
    expect(seenByEarlier.filter((f) => f.id === ping.id)).toHaveLength(1)
    expect(atTop.filter((f) => f.id === ping.id)).toHaveLength(1)
  })

  it('a frame pushed upstream after the element passes every branch handler and goes on once', async () => {
    const handled: string[] = []
    const watcher =
      (name: string): ProcessorFn =>
      async function* watcher(source, ctx) {
        ctx.onUpstream((f, next) => {
          handled.push(name)
          next(f)
        })
        yield* source
      }
    const back = Frames.app('back', {})
    const after: ProcessorFn = async function* after(source, ctx) {
      for await (const f of source) {
        if (f.type === 'end') ctx.pushUpstream(back)
        yield f
      }
    }
    const atTop: Frame[] = []
    await collect(pipeline(parallel(watcher('a'), watcher('b')), after), texts('x'), { onUpstream: (f) => atTop.push(f) })
    expect(handled.sort()).toEqual(['a', 'b'])
    expect(atTop.filter((f) => f.id === back.id)).toHaveLength(1)
  })

  it('an exception in a branch becomes an error frame that reaches the task, and the branch goes on', async () => {
    let calls = 0
    const flaky: Processor = async function* flaky(source) {
      for await (const f of source) {
        if (f.type === 'text' && calls++ === 0) throw new Error('branch failed')
        yield f
      }
    }
    const { labels, result } = await collect(parallel(mapText((t) => `ok-${t}`), flaky), texts('1', '2'))
    expect(result.status).toBe('ended')
    expect(result.errors.map((e) => e.error)).toEqual(['branch failed'])
    expect(result.errors[0]?.processor).toMatch(/parallel\/branch1/)
    expect(labels).toContain('ok-1')
    expect(labels).toContain('ok-2')
    expect(labels).toContain('2')
  })

  it('a fatal error in a branch ends the run errored and tears every branch down', async () => {
    const counter = { finals: 0 }
    const fatal: Processor = async function* fatal(source) {
      for await (const f of source) {
        if (f.type === 'text') throw new FatalError('stop now')
        yield f
      }
    }
    const idle: ProcessorFn = async function* idle(source, ctx) {
      for await (const f of source) {
        yield f
        if (f.type === 'text') await untilAborted(ctx.signal)
      }
    }
    const handle = run(parallel(tracked(counter, fatal), tracked(counter, idle), tracked(counter, identity)), texts('a', 'b'))
    await expect(async () => {
      for await (const _ of handle) void _
    }).rejects.toThrow(/stop now/)
    expect((await handle.result).status).toBe('errored')
    await ticks(5)
    expect(counter.finals).toBe(3)
  })

  it('cancel tears every branch down, also branches blocked on their input or on a signal', async () => {
    const counter = { finals: 0 }
    const waiting: ProcessorFn = async function* waiting(source, ctx) {
      for await (const f of source) {
        if (f.type === 'text') await untilAborted(ctx.signal)
        yield f
      }
    }
    const task = new PipelineTask(parallel(tracked(counter, waiting), tracked(counter, identity)))
    const out = task.frames()
    const done = task.run()
    const reading = (async () => {
      for await (const _ of out) void _
    })()
    await task.queueFrames(texts('a'))
    await ticks(5)
    const result = await task.cancel()
    await reading
    await done
    await ticks(5)
    expect(result.status).toBe('cancelled')
    expect(counter.finals).toBe(2)
  })

  it('breaking out of the output loop returns every branch', async () => {
    const counter = { finals: 0 }
    const endless: Processor = async function* endless(source) {
      for await (const f of source) {
        yield f
        if (f.type === 'text') for (let i = 0; ; i++) yield Frames.text(`n${i}`)
      }
    }
    let seen = 0
    const options = { cancelTimeoutMs: 50 }
    for await (const f of run(parallel(tracked(counter, endless), tracked(counter, identity)), texts('go'), options)) {
      if (f.type === 'text' && ++seen === 20) break
    }
    await ticks(10)
    expect(counter.finals).toBe(2)
  })

  it('an interruption drops the data frames waiting in the branch buffers', async () => {
    const gate = deferred()
    const blocked: Processor = async function* blocked(source) {
      for await (const f of source) {
        if (f.type === 'text' && label(f) === '0') await gate.promise
        yield f
      }
    }
    const task = new PipelineTask(parallel({ capacity: 8 }, blocked), { allowInterruptions: true })
    const out = task.frames()
    const done = task.run()
    const seen: string[] = []
    const reading = (async () => {
      for await (const f of out) seen.push(label(f))
    })()
    await task.queueFrames(texts('0', '1', '2', '3'))
    await ticks(10)
    task.interrupt()
    gate.resolve()
    await ticks(10)
    task.stopWhenDone()
    await done
    await reading
    expect(seen).toContain('startInterruption')
    expect(seen.filter((l) => ['1', '2', '3'].includes(l))).toEqual([])
    expect(seen.at(-1)).toBe('end')
  })
})

describe('bounded memory of the join', () => {
  it('BranchDedupe forgets an id once every live branch yielded it, and never holds more than its window', () => {
    const d = new BranchDedupe(3, 8)
    expect(d.admit(0, 1)).toBe(true)
    expect(d.admit(1, 1)).toBe(false)
    expect(d.size).toBe(1)
    expect(d.admit(2, 1)).toBe(false)
    expect(d.size).toBe(0)
    for (let id = 100; id < 10_000; id++) d.admit(0, id)
    expect(d.size).toBeLessThanOrEqual(8)
    d.branchDone(1)
    d.branchDone(2)
    expect(d.size).toBe(0)
  })

  it('BranchDedupe keeps the multiset union: a branch yielding the same object twice gives two copies', () => {
    const d = new BranchDedupe(2, 8)
    expect([d.admit(0, 5), d.admit(0, 5), d.admit(1, 5), d.admit(1, 5), d.admit(1, 5)]).toEqual([true, true, false, false, true])
  })

  it('RecentIds remembers only the last ids', () => {
    const r = new RecentIds(2)
    expect([r.add(1), r.add(1), r.add(2), r.add(3), r.add(1)]).toEqual([true, false, true, true, true])
  })

  it('the join state stays bounded over many frames when one branch filters everything', async () => {
    const dropAll: Processor = async function* dropAll(source) {
      for await (const f of source) if (f.type !== 'text') yield f
    }
    let maxSize = 0
    const probe: Processor = (source, ctx) => {
      const inner = parallel({ dedupeWindow: 64 }, identity, dropAll)(source, ctx)
      const it = inner[Symbol.asyncIterator]()
      return {
        [Symbol.asyncIterator]() {
          return this
        },
        async next() {
          const r = await it.next()
          const size = (it as unknown as { dedupe: BranchDedupe }).dedupe.size
          if (size > maxSize) maxSize = size
          return r
        },
        return: () => it.return?.() ?? Promise.resolve({ done: true, value: undefined }),
      } as AsyncIterableIterator<Frame>
    }
    async function* many(): AsyncGenerator<Frame> {
      for (let i = 0; i < 5000; i++) yield Frames.text(String(i))
    }
    const { frames } = await collect(probe, many())
    expect(frames.filter((f) => f.type === 'text')).toHaveLength(5000)
    expect(maxSize).toBeGreaterThan(0)
    expect(maxSize).toBeLessThanOrEqual(64)
  })
})
