import { describe, expect, it } from 'vitest'
import { parallel } from '../../lib/combinators/parallel.js'
import { syncParallel } from '../../lib/combinators/sync-parallel.js'
import { FatalError, Frames, filter, pipeline, run, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { collect, deferred, label, mapText, texts, ticks, tracked } from './helpers.js'

/** Maps text with `fn` after waiting `delay(text)` turns of the event loop. */
function delayed(fn: (t: string) => string, delay: (t: string) => number): Processor {
  return async function* delayedBranch(source) {
    for await (const f of source) {
      if (f.type !== 'text') {
        yield f
        continue
      }
      const t = label(f)
      await ticks(delay(t))
      yield Frames.text(fn(t))
    }
  }
}

const body = (labels: string[]): string[] => labels.filter((l) => l !== 'start' && l !== 'end')

describe('syncParallel: per-input barrier', () => {
  it('releases the outputs of each input together, in branch order, whatever the branch speeds', async () => {
    const { labels, result } = await collect(
      syncParallel(
        delayed((t) => `A${t}`, (t) => (t === '1' ? 6 : 0)),
        delayed((t) => `B${t}`, (t) => (t === '2' ? 6 : 1)),
        mapText((t) => `C${t}`),
      ),
      texts('1', '2', '3'),
    )
    expect(result.status).toBe('ended')
    expect(labels).toEqual(['start', 'A1', 'B1', 'C1', 'A2', 'B2', 'C2', 'A3', 'B3', 'C3', 'end'])
  })

  it('does not deadlock when a branch emits nothing, drops frames, or drops start and end (Python P11)', async () => {
    const nothing: Processor = async function* nothing(source) {
      for await (const _ of source) void _
    }
    const { labels } = await collect(
      syncParallel(nothing, pipeline(filter((f) => f.type !== 'text' || label(f) !== '2')), mapText((t) => `m${t}`)),
      texts('1', '2', '3'),
    )
    expect(labels).toEqual(['start', '1', 'm1', 'm2', '3', 'm3', 'end'])
  })

  it('keeps grouping when a branch throws (its stage restarts) and reports the error', async () => {
    const thrower: Processor = async function* thrower(source) {
      for await (const f of source) {
        if (f.type === 'text' && label(f) === '2') throw new Error('bad 2')
        yield f.type === 'text' ? Frames.text(`t${label(f)}`) : f
      }
    }
    const { labels, result } = await collect(syncParallel(thrower, mapText((t) => `m${t}`)), texts('1', '2', '3'))
    expect(labels).toEqual(['start', 't1', 'm1', 'm2', 't3', 'm3', 'end'])
    expect(result.errors.map((e) => e.error)).toEqual(['bad 2'])
  })

  it('works with nested syncParallel and parallel branches (Python P35)', async () => {
    const { labels } = await collect(
      syncParallel(
        mapText((t) => `a${t}`),
        syncParallel(delayed((t) => `b${t}`, () => 3), mapText((t) => `c${t}`)),
        parallel(delayed((t) => `d${t}`, () => 4), mapText((t) => `e${t}`)),
      ),
      texts('1', '2'),
    )
    const groups = body(labels)
    expect(groups).toHaveLength(10)
    expect(groups.slice(0, 3)).toEqual(['a1', 'b1', 'c1'])
    expect(groups.slice(3, 5).sort()).toEqual(['d1', 'e1'])
    expect(groups.slice(5, 8)).toEqual(['a2', 'b2', 'c2'])
    expect(groups.slice(8).sort()).toEqual(['d2', 'e2'])
    expect(labels[0]).toBe('start')
    expect(labels.at(-1)).toBe('end')
  })

  it('releases a pass-through frame once, at its first place', async () => {
    const input = texts('x', 'y')
    const identity: Processor = async function* identity(source) {
      yield* source
    }
    const { frames } = await collect(syncParallel(identity, mapText((t) => `m${t}`), identity), input)
    expect(frames.map(label)).toEqual(['start', 'x', 'mx', 'y', 'my', 'end'])
    expect(frames[1]).toBe(input[0])
  })

  it('an upstream error from a branch reaches the task at once (Python P13)', async () => {
    const failing: Processor = async function* failing(source) {
      for await (const f of source) {
        if (f.type === 'text') throw new FatalError('fatal in branch')
        yield f
      }
    }
    const counter = { finals: 0 }
    const handle = run(syncParallel(tracked(counter, failing), tracked(counter, mapText((t) => t))), texts('1', '2'))
    await expect(async () => {
      for await (const _ of handle) void _
    }).rejects.toThrow(/fatal in branch/)
    expect((await handle.result).status).toBe('errored')
    await ticks(5)
    expect(counter.finals).toBe(2)
  })

  it('a stage after the element pushing upstream while output is released causes no duplicates (Python P12)', async () => {
    const atTop: Frame[] = []
    const echo: ProcessorFn = async function* echo(source, ctx) {
      for await (const f of source) {
        if (f.type === 'text') ctx.pushUpstream(Frames.app('ack', { text: label(f) }))
        yield f
      }
    }
    const { labels } = await collect(
      pipeline(syncParallel(mapText((t) => `a${t}`), mapText((t) => `b${t}`)), echo),
      texts('1', '2'),
      { onUpstream: (f) => atTop.push(f) },
    )
    expect(body(labels)).toEqual(['a1', 'b1', 'a2', 'b2'])
    expect(atTop.filter((f) => f.type === 'ack')).toHaveLength(4)
  })

  it('emits a frame a branch produces between inputs without waiting for the next input', async () => {
    const gate = deferred()
    const input = (async function* () {
      yield Frames.text('1')
      await gate.promise
      yield Frames.text('2')
    })()
    const ticker: ProcessorFn = async function* ticker(source) {
      const it = source[Symbol.asyncIterator]()
      let timer: Promise<'tick'> | undefined
      for (;;) {
        const read = it.next()
        const r = timer === undefined ? await read : await Promise.race([read, timer])
        if (r === 'tick') {
          timer = new Promise<never>(() => {})
          yield Frames.text('tick')
          const next = await read
          if (next.done === true) return
          yield next.value
          continue
        }
        if (r.done === true) return
        yield r.value
        if (r.value.type === 'text' && timer === undefined) timer = new Promise((resolve) => setTimeout(() => resolve('tick'), 0))
      }
    }
    const seen: string[] = []
    for await (const f of run(syncParallel(ticker, mapText((t) => `m${t}`)), input)) {
      seen.push(label(f))
      if (label(f) === 'tick') gate.resolve()
    }
    expect(seen).toEqual(['start', '1', 'm1', 'tick', '2', 'm2', 'end'])
  })
})
