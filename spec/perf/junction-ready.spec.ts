/**
 * The fan-out of `parallel` takes frames its source has ready without an async hop (a synchronous iterable, a library
 * iterator), and output waiting in its queue is handed over without a pending read: the source is still read no
 * further than the fullest branch buffer allows, order is kept, and a failure of a detached run still surfaces.
 */
import { describe, expect, it } from 'vitest'
import { parallel } from '../../lib/combinators/parallel.js'
import { syncParallel } from '../../lib/combinators/sync-parallel.js'
import { FatalError, Frames, PipelineError, detachedContext, type Frame, type Processor } from '../../lib/index.js'
import { deferred, ticks } from '../parallel/helpers.js'

function countedInput(n: number) {
  const state = { pulled: 0 }
  function* gen(): Generator<Frame> {
    for (let i = 0; i < n; i++) {
      state.pulled++
      yield Frames.text(String(i))
    }
  }
  return { state, input: gen() }
}

const tagged =
  (tag: string): Processor =>
    async function* tagger(source) {
      for await (const f of source) yield f.type === 'text' ? Frames.text(`${tag}${f.text}`) : f
    }

describe('parallel over a source with frames ready', () => {
  it('reads a synchronous source no further than a full branch buffer, and loses nothing', async () => {
    const gate = deferred()
    const blocked: Processor = async function* blocked(source) {
      for await (const f of source) {
        if (f.type === 'text') await gate.promise
        yield f
      }
    }
    const { state, input } = countedInput(300)
    const element = parallel({ capacity: 4 }, blocked, tagged('f'))
    const out = element(input as unknown as AsyncIterable<Frame>, detachedContext('ready'))
    const it = out[Symbol.asyncIterator]()
    const first = it.next()
    await ticks(30)
    // The blocked branch holds one frame and its buffer four.
    expect(state.pulled).toBeLessThanOrEqual(4 + 2)
    const whileBlocked = state.pulled
    await ticks(30)
    expect(state.pulled).toBe(whileBlocked)
    gate.resolve()
    const labels: string[] = []
    for (let r = await first; r.done !== true; r = await it.next()) if (r.value.type === 'text') labels.push(r.value.text)
    const plain = labels.filter((l) => /^\d+$/.test(l))
    const fromF = labels.filter((l) => l.startsWith('f'))
    expect(plain).toEqual(Array.from({ length: 300 }, (_, i) => String(i)))
    expect(fromF).toEqual(Array.from({ length: 300 }, (_, i) => `f${i}`))
  })

  for (const [label, element] of [
    ['parallel', parallel],
    ['syncParallel', syncParallel],
  ] as const) {
    it(`${label}: a fatal error in a branch still ends a detached run while other output is ready`, async () => {
      const failing: Processor = async function* failing(source) {
        let n = 0
        for await (const f of source) {
          if (f.type === 'text' && ++n === 50) throw new FatalError('branch broke')
          yield f
        }
      }
      const { input } = countedInput(1000)
      const out = element({ capacity: 8 }, failing, tagged('a'), tagged('b'))(input as unknown as AsyncIterable<Frame>, detachedContext('fails'))
      let read = 0
      const err = await (async () => {
        try {
          for await (const _ of out) read++
        } catch (e) {
          return e
        }
        return undefined
      })()
      expect(err).toBeInstanceOf(PipelineError)
      expect((err as PipelineError).frame.error).toBe('branch broke')
      expect(read).toBeLessThan(3000)
    })
  }
})
