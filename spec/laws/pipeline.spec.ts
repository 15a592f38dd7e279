/**
 * Algebraic laws of serial composition, checked on random well-behaved processors and random frame streams:
 * `pipeline` is associative, `pipeline(p)` behaves as `p`, and identity processors are units.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FatalError, Frames, map, named, pipeline, type Processor, type ProcessorFn } from '../../lib/index.js'
import { arbFrames, arbProcessor, assertSameRun, checkEquivalent, checkLifecycleLaws } from '../../lib/testing/index.js'
import { arbStage, failsOn } from './stages.js'


const frames = arbFrames({ maxLength: 10 })

const passthrough: Processor = async function* passthrough(source) {
  for await (const f of source) yield f
}
const identities: readonly [string, () => Processor][] = [
  ['pipeline()', () => pipeline()],
  ['map(f => f)', () => map((f) => f)],
  ['a pass-through generator', () => passthrough],
]

describe('pipeline laws', () => {
  it('is associative: (a b) c ≡ a (b c) ≡ a b c, nested pipelines flattened or kept (named)', async () => {
    await fc.assert(
      fc.asyncProperty(arbStage, arbStage, arbStage, frames, async (a, b, c, input) => {
        const flat = pipeline(a, b, c)
        await assertSameRun(pipeline(pipeline(a, b), c), flat, input)
        await assertSameRun(pipeline(a, pipeline(b, c)), flat, input)
        await assertSameRun(pipeline(named('ab', pipeline(a, b)), c), pipeline(a, named('bc', pipeline(b, c))), input)
      }),
      { numRuns: 100 },
    )
  })

  it('pipeline(p) ≡ p', async () => {
    await fc.assert(
      fc.asyncProperty(arbStage, frames, async (p, input) => {
        await assertSameRun(pipeline(p), p, input)
        await assertSameRun(named('wrapped', pipeline(p)), p, input)
        await assertSameRun(pipeline(pipeline(pipeline(p))), p, input)
      }),
      { numRuns: 100 },
    )
  })

  for (const [label, identity] of identities) {
    it(`${label} is a unit: pipeline(id, p) ≡ p ≡ pipeline(p, id)`, async () => {
      await fc.assert(
        fc.asyncProperty(arbStage, frames, async (p, input) => {
          await assertSameRun(pipeline(identity(), p), p, input)
          await assertSameRun(pipeline(p, identity()), p, input)
          await assertSameRun(named('id', pipeline(identity())), pipeline(), input)
        }),
        { numRuns: 60 },
      )
    })
  }

  it('compositions obey the lifecycle laws', async () => {
    await fc.assert(
      fc.asyncProperty(arbProcessor(), arbProcessor(), arbProcessor(), async (a, b, c) => {
        await checkLifecycleLaws(pipeline(a, named('bc', pipeline(b, c))), { numRuns: 8 })
      }),
      { numRuns: 25 },
    )
  })

  it('the equivalence check sees order: suffixes applied in the other order differ', async () => {
    const suffix = (s: string): Processor => map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text + s) : f))
    const ab = pipeline(suffix('a'), suffix('b'))
    const ba = pipeline(suffix('b'), suffix('a'))
    await expect(assertSameRun(ab, ba, [Frames.text('x')])).rejects.toThrow(/downstream frames differ at index 1/)
    await expect(assertSameRun(ab, ab, [Frames.text('x')])).resolves.toHaveLength(2)
    await expect(checkEquivalent(ab, ba, { numRuns: 100 })).rejects.toThrow(/Counterexample: \[\[.*TextFrame/)
  })

  it('the equivalence check sees upstream frames and statuses', async () => {
    const pushes: ProcessorFn = async function* pushes(source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.app('seen', f.text))
        yield f
      }
    }
    await expect(assertSameRun(pushes, passthrough, [Frames.text('x')])).rejects.toThrow(/upstream frames differ/)
    await expect(assertSameRun(pushes, passthrough, [Frames.text('x')], { upstream: false })).resolves.toBeDefined()
    await expect(assertSameRun(passthrough, passthrough, [Frames.text('x'), Frames.cancel()])).resolves.toBeDefined()
    await expect(assertSameRun(passthrough, failsOn(1), [Frames.text('x')])).rejects.toThrow(/downstream frames differ/)
    await expect(assertSameRun(passthrough, failsOn(1), [Frames.text('x')], { view: (fs) => fs.filter((f) => f.kind === 'system') })).rejects.toThrow(/upstream frames differ/)
    const fatal: Processor = async function* fatal(source) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') throw new FatalError('stop')
        yield f
      }
    }
    await expect(assertSameRun(passthrough, fatal, [Frames.text('x')])).rejects.toThrow(/statuses differ: ended vs errored/)
  })
})
