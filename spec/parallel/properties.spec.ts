/**
 * Property tests: random inputs, random branch behaviours (map, filter, duplicate, delay, identity), interleavings
 * explored with `fc.scheduler()`.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parallel } from '../../lib/combinators/parallel.js'
import { syncParallel } from '../../lib/combinators/sync-parallel.js'
import { Frames, type Frame, type Processor } from '../../lib/index.js'
import { collect, label, tracked } from './helpers.js'

type Behaviour = 'map' | 'filter' | 'duplicate' | 'delay' | 'identity'
const behaviours: Behaviour[] = ['map', 'filter', 'duplicate', 'delay', 'identity']

/** Whether `filter` in branch `b` keeps input `k`. */
const keeps = (b: number, k: number): boolean => (b + k) % 3 !== 0

/** What branch `b` with `behaviour` yields for input text `t` (index `k`): labels, `=t` for the input object itself. */
function expectedFor(behaviour: Behaviour, b: number, t: string, k: number): string[] {
  switch (behaviour) {
    case 'map':
      return [`${b}:m:${t}`]
    case 'filter':
      return keeps(b, k) ? [`=${t}`] : []
    case 'duplicate':
      return [`${b}:d1:${t}`, `${b}:d2:${t}`]
    case 'delay':
    case 'identity':
      return [`=${t}`]
  }
}

function branchOf(behaviour: Behaviour, b: number, s: fc.Scheduler): Processor {
  return async function* randomBranch(source) {
    let k = 0
    for await (const f of source) {
      if (f.type !== 'text') {
        yield f
        continue
      }
      const t = label(f)
      const index = k++
      switch (behaviour) {
        case 'map':
          yield Frames.text(`${b}:m:${t}`)
          break
        case 'filter':
          if (keeps(b, index)) yield f
          break
        case 'duplicate':
          yield Frames.text(`${b}:d1:${t}`)
          yield Frames.text(`${b}:d2:${t}`)
          break
        case 'delay':
          await s.schedule(Promise.resolve(), `branch${b} ${t}`)
          yield f
          break
        case 'identity':
          yield f
          break
      }
    }
  }
}

/** Output label of a frame: its text, or `=text` when it is one of the input objects. */
function outLabel(frame: Frame, inputs: readonly Frame[]): string {
  return inputs.includes(frame) ? `=${label(frame)}` : label(frame)
}

const arbCase = fc.record({
  count: fc.integer({ min: 0, max: 10 }),
  kinds: fc.array(fc.constantFrom(...behaviours), { minLength: 1, maxLength: 4 }),
  capacity: fc.integer({ min: 1, max: 4 }),
})

async function runCase(
  mode: 'parallel' | 'sync',
  s: fc.Scheduler,
  c: { count: number; kinds: Behaviour[]; capacity: number },
): Promise<void> {
  const inputs = Array.from({ length: c.count }, (_, k) => Frames.text(`i${k}`))
  const counter = { finals: 0 }
  const branches = c.kinds.map((kind, b) => tracked(counter, branchOf(kind, b, s)))
  const element = mode === 'parallel' ? parallel({ capacity: c.capacity }, ...branches) : syncParallel({ capacity: c.capacity }, ...branches)
  const { frames, result } = await s.waitFor(collect(element, inputs))
  const labels = frames.map((f) => outLabel(f, inputs))

  // Lifecycle: start first, end last, once each; the run ended and every branch's finally ran; nothing is pending.
  expect(result.status).toBe('ended')
  expect(labels[0]).toBe('start')
  expect(labels.at(-1)).toBe('end')
  expect(labels.filter((l) => l === 'start' || l === 'end')).toHaveLength(2)
  expect(counter.finals).toBe(c.kinds.length)
  expect(s.count()).toBe(0)

  // The output multiset is the union of the branch outputs (input objects once, branch-made frames all).
  const perBranch = c.kinds.map((kind, b) => inputs.flatMap((f, k) => expectedFor(kind, b, label(f), k)))
  const union = new Set(perBranch.flat().filter((l) => l.startsWith('=')))
  const expected = [...union, ...perBranch.flat().filter((l) => !l.startsWith('='))].sort()
  const body = labels.slice(1, -1)
  expect([...body].sort()).toEqual(expected)

  // Per-branch order.
  perBranch.forEach((own, b) => {
    const mine = own.filter((l) => !l.startsWith('='))
    expect(body.filter((l) => l.startsWith(`${b}:`))).toEqual(mine)
  })

  if (mode === 'sync') {
    // Grouped by input, and within an input, branch-made frames in branch order.
    const inputIndex = (l: string): number => Number(/i(\d+)$/.exec(l)?.[1])
    const indices = body.map(inputIndex)
    expect(indices).toEqual([...indices].sort((a, b) => a - b))
    for (let k = 0; k < c.count; k++) {
      const group = body.filter((l) => inputIndex(l) === k && !l.startsWith('='))
      const branchIds = group.map((l) => Number(l.split(':')[0]))
      expect(branchIds).toEqual([...branchIds].sort((a, b) => a - b))
    }
  }
}

describe('properties of parallel and syncParallel', () => {
  it('parallel: output is the union of branch outputs, per-branch order holds, end is last, nothing leaks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), arbCase, (s, c) => runCase('parallel', s, c)),
      { numRuns: 150 },
    )
  })

  it('syncParallel: the same, plus outputs grouped by input in branch order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), arbCase, (s, c) => runCase('sync', s, c)),
      { numRuns: 150 },
    )
  })
})
