/**
 * parallel at its edges: no frame emitted twice when a branch ends before a slower one passed `start`; closing a
 * directly iterated element never waits unboundedly on a branch; many elements add no listener per element to a signal.
 */
import { describe, expect, it } from 'vitest'
import { Frames, parallel, pipeline, run, type Frame, type Processor } from '../../lib/index.js'
import { sleep, textFrames, texts, types } from '../helpers/collect.js'

const pass: Processor = async function* pass(source) {
  for await (const f of source) yield f
}

describe('parallel never emits a frame twice', () => {
  it('a branch that ends before a slower branch passed start: its held output is matched against the slow copy', async () => {
    const slow: Processor = async function* slow(source) {
      for await (const f of source) {
        if (f.type === 'start') await sleep(30)
        yield f
      }
    }
    const out: Frame[] = []
    for await (const f of run(parallel(slow, pass), [Frames.text('hi')])) out.push(f)
    expect(types(out)).toEqual(['start', 'text', 'end'])
    expect(new Set(out.map((f) => f.id)).size).toBe(out.length)
  })

  it('the same with several frames and three branches', async () => {
    const slow: Processor = async function* slow(source) {
      for await (const f of source) {
        if (f.type === 'start') await sleep(20)
        yield f
      }
    }
    const out: Frame[] = []
    for await (const f of run(parallel(slow, pass, [pass, pass]), textFrames(5))) out.push(f)
    expect(texts(out)).toEqual(['0', '1', '2', '3', '4'])
    expect(new Set(out.map((f) => f.id)).size).toBe(out.length)
  })
})

describe('iterating a combinator directly is as safe as through run()', () => {
  const stuck: Processor = async function* stuck(source) {
    for await (const f of source) {
      if (f.kind === 'data' && f.type === 'text' && f.text === 'b') await new Promise(() => {})
      yield f
    }
  }

  for (const [name, element] of [['parallel', parallel(stuck, pass)]] as const) {
    it(`${name}: break while a branch is parked on a promise that never settles returns within the cancel timeout`, async () => {
      async function* source(): AsyncGenerator<Frame> {
        yield Frames.text('a')
        yield Frames.text('b')
      }
      const broke = (async () => {
        for await (const f of element(source(), undefined as never)) {
          if (f.kind === 'data' && f.type === 'text' && f.text === 'b') break
        }
        return 'returned'
      })()
      // A detached element waits at most its run's cancel timeout (1 s) for a branch that never returns.
      expect(await Promise.race([broke, sleep(8_000).then(() => 'hang')])).toBe('returned')
    }, 15_000)
  }
})

describe('listeners', () => {
  it('a task with many parallel elements adds no listener per element to a signal', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error): void => {
      warnings.push(w.name)
    }
    process.on('warning', onWarning)
    try {
      const p = pipeline(...Array.from({ length: 15 }, () => parallel(pass)))
      const out: Frame[] = []
      for await (const f of run(p, textFrames(3), { signal: new AbortController().signal })) out.push(f)
      expect(texts(out)).toEqual(['0', '1', '2'])
      await sleep(10)
      expect(warnings).not.toContain('MaxListenersExceededWarning')
    } finally {
      process.off('warning', onWarning)
    }
  })
})
