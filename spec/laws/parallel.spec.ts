/**
 * Laws of the fan-out combinators, checked on random well-behaved processors and random frame streams:
 * `parallel(p)` behaves as `p`; `parallel` keeps the multiset of branch outputs and each branch's order, and emits
 * a frame object leaving several branches once; `syncParallel` releases, for each input frame, the outputs of the
 * branches in branch order.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parallel } from '../../lib/combinators/parallel.js'
import { syncParallel } from '../../lib/combinators/sync-parallel.js'
import { Frames, map, pipeline, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import {
  arbFrames,
  arbProcessor,
  assertSameRun,
  checkLifecycleLaws,
  frameKey,
  runProcessor,
  withoutLifecycle,
  type ArbProcessorKind,
} from '../../lib/testing/index.js'
import { arbStage, failsOn } from './stages.js'


/** Re-emits every frame but lifecycle and system frames as a new app frame `b<i>` carrying the frame's key. */
const tag = (i: number): Processor =>
  map((f) => (Frames.isLifecycle(f) || f.kind === 'system' ? f : Frames.app(`b${i}`, frameKey(f))), `tag${i}`)

const passthrough: Processor = async function* passthrough(source) {
  for await (const f of source) yield f
}

/** Processors that finish with each input frame before reading the next (no read-ahead). */
const perFrameKinds: ArbProcessorKind[] = ['identity', 'suffix', 'drop', 'duplicate', 'asyncSuffix', 'pushUpstream']
const arbPerFrameStage = fc.oneof(
  { arbitrary: arbProcessor({ kinds: perFrameKinds }), weight: 6 },
  { arbitrary: fc.nat({ max: 2 }).map(failsOn), weight: 1 },
)
const frames = arbFrames({ maxLength: 10 })
const branchesOf = (stage: fc.Arbitrary<ProcessorFn>) => fc.array(stage, { minLength: 1, maxLength: 4 })

const payload = async (p: ProcessorFn, input: readonly Frame[]): Promise<Frame[]> => {
  const r = await runProcessor(p, input)
  expect(r.status).toBe('ended')
  return withoutLifecycle(r.downstream)
}

describe('parallel laws', () => {
  it('parallel(p) ≡ p (lifecycle frames joined)', async () => {
    await fc.assert(
      fc.asyncProperty(arbStage, frames, async (p, input) => {
        await assertSameRun(parallel(p), p, input)
      }),
      { numRuns: 100 },
    )
  })

  it('a frame object leaving several branches is emitted once: parallel(id, id) ≡ id', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 4 }), frames, async (n, input) => {
        await assertSameRun(parallel(...Array.from({ length: n }, () => passthrough)), passthrough, input)
      }),
      { numRuns: 50 },
    )
  })

  it('merge preserves the multiset of branch outputs and the order within each branch', async () => {
    await fc.assert(
      fc.asyncProperty(branchesOf(arbStage), frames, async (stages, input) => {
        const branches = stages.map((p, i) => pipeline(p, tag(i)))
        const merged = await payload(parallel(...branches), input)
        const alone = await Promise.all(branches.map((b) => payload(b, input)))
        // multiset
        expect(merged.map((f) => frameKey(f)).sort()).toEqual(alone.flat().map((f) => frameKey(f)).sort())
        // per-branch order
        alone.forEach((expected, i) => {
          const got = merged.filter((f) => f.type === `b${i}`)
          expect(got.map((f) => frameKey(f))).toEqual(expected.map((f) => frameKey(f)))
        })
      }),
      { numRuns: 100 },
    )
  })

  it('parallel obeys the lifecycle laws', async () => {
    await fc.assert(
      fc.asyncProperty(branchesOf(arbProcessor()), async (stages) => {
        await checkLifecycleLaws(parallel(...stages), { numRuns: 8 })
      }),
      { numRuns: 25 },
    )
  })
})

describe('syncParallel laws', () => {
  it('releases, for each input frame, the branch outputs in branch order', async () => {
    await fc.assert(
      fc.asyncProperty(branchesOf(arbPerFrameStage), arbFrames({ maxLength: 6 }), async (stages, input) => {
        const branches = stages.map((p, i) => pipeline(p, tag(i)))
        const got = await payload(syncParallel(...branches), input)
        const expected: Frame[] = []
        for (const frame of input) {
          for (const b of branches) expected.push(...(await payload(b, [frame])))
        }
        expect(got.map((f) => frameKey(f))).toEqual(expected.map((f) => frameKey(f)))
      }),
      { numRuns: 60 },
    )
  })

  it('syncParallel(p) ≡ p and syncParallel(id, id) ≡ id', async () => {
    await fc.assert(
      fc.asyncProperty(arbPerFrameStage, frames, async (p, input) => {
        await assertSameRun(syncParallel(p), p, input)
        await assertSameRun(syncParallel(passthrough, passthrough), passthrough, input)
      }),
      { numRuns: 60 },
    )
  })

  it('syncParallel obeys the lifecycle laws', async () => {
    await fc.assert(
      fc.asyncProperty(branchesOf(arbProcessor()), async (stages) => {
        await checkLifecycleLaws(syncParallel(...stages), { numRuns: 8 })
      }),
      { numRuns: 25 },
    )
  })
})
