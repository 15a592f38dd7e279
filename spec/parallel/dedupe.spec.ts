import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BranchDedupe } from '../../lib/combinators/dedupe.js'

/**
 * The join's de-duplication written the plain way (an entry object per id in an insertion-ordered map): the
 * semantics the pooled implementation must keep, operation for operation.
 */
class PlainDedupe {
  private readonly entries = new Map<number, { counts: number[]; emitted: number; behind: number }>()
  private readonly live: boolean[]

  constructor(
    private readonly branches: number,
    private readonly window: number,
  ) {
    this.live = new Array<boolean>(branches).fill(true)
  }

  get size(): number {
    return this.entries.size
  }

  private get liveCount(): number {
    return this.live.filter(Boolean).length
  }

  admit(branch: number, id: number): boolean {
    const entry = this.entries.get(id)
    if (entry === undefined) {
      if (this.liveCount <= 1) return true
      const counts = new Array<number>(this.branches).fill(0)
      counts[branch] = 1
      this.entries.set(id, { counts, emitted: 1, behind: this.liveCount - (this.live[branch] === true ? 1 : 0) })
      if (this.entries.size > this.window) this.entries.delete(this.entries.keys().next().value as number)
      return true
    }
    const c = (entry.counts[branch] ?? 0) + 1
    entry.counts[branch] = c
    if (c > entry.emitted) {
      entry.emitted = c
      entry.behind = entry.counts.filter((n, j) => this.live[j] === true && n < c).length
      if (entry.behind === 0) this.entries.delete(id)
      return true
    }
    if (c === entry.emitted && this.live[branch] === true) {
      entry.behind--
      if (entry.behind <= 0) this.entries.delete(id)
    }
    return false
  }

  branchDone(branch: number): void {
    if (this.live[branch] !== true) return
    this.live[branch] = false
    for (const [id, entry] of this.entries) {
      if ((entry.counts[branch] ?? 0) < entry.emitted) {
        entry.behind--
        if (entry.behind <= 0) this.entries.delete(id)
      }
    }
  }
}

describe('BranchDedupe', () => {
  it('pushes out the oldest id still remembered, not the oldest slot: a long-held frame stays suppressed', () => {
    const d = new BranchDedupe(2, 4)
    expect(d.admit(0, 1)).toBe(true) // branch 1 holds frame 1 back
    for (let id = 2; id < 100; id++) {
      expect(d.admit(0, id)).toBe(true)
      expect(d.admit(1, id)).toBe(false) // resolved at once: forgotten
    }
    expect(d.size).toBe(1)
    expect(d.admit(1, 1)).toBe(false) // the held copy is still recognised
    expect(d.size).toBe(0)
  })

  it('forgets the oldest pending id once `window` newer ones are pending', () => {
    const d = new BranchDedupe(2, 3)
    for (const id of [1, 2, 3, 4]) expect(d.admit(0, id)).toBe(true)
    expect(d.size).toBe(3)
    expect(d.admit(1, 2)).toBe(false)
    expect(d.admit(1, 4)).toBe(false)
    expect(d.admit(1, 1)).toBe(true) // pushed out: the copy gets through (documented limit)
  })

  it('window 1 remembers a single id', () => {
    const d = new BranchDedupe(3, 1)
    expect(d.admit(0, 1)).toBe(true)
    expect(d.admit(0, 2)).toBe(true)
    expect(d.size).toBe(1)
    expect(d.admit(1, 2)).toBe(false)
    expect(d.admit(2, 2)).toBe(false)
    expect(d.size).toBe(0)
    expect(d.admit(1, 1)).toBe(true)
  })

  it('reuses freed slots with fresh counts and grows past its first pool without losing ids', () => {
    const d = new BranchDedupe(2, 1000)
    // Free slots in the middle of the age list, then reuse them for new ids.
    for (let id = 0; id < 40; id++) d.admit(0, id)
    for (let id = 10; id < 30; id++) expect(d.admit(1, id)).toBe(false)
    expect(d.size).toBe(20)
    for (let id = 1000; id < 1100; id++) expect(d.admit(1, id)).toBe(true)
    expect(d.size).toBe(120)
    for (let id = 1000; id < 1100; id++) expect(d.admit(0, id)).toBe(false)
    for (const id of [0, 9, 30, 39]) expect(d.admit(1, id)).toBe(false)
    // A reused slot starts from zero: the same branch yielding a new id twice gives two copies.
    expect([d.admit(1, 5000), d.admit(1, 5000), d.admit(0, 5000)]).toEqual([true, true, false])
  })

  it('works with ids beyond 32 bits, and clear() forgets everything', () => {
    const big = 2 ** 40 + 3
    const d = new BranchDedupe(2, 8)
    expect(d.admit(0, big)).toBe(true)
    expect(d.admit(0, big + 1)).toBe(true)
    d.clear()
    expect(d.size).toBe(0)
    expect(d.admit(1, big)).toBe(true)
    expect(d.admit(0, big)).toBe(false)
  })

  it('a finished branch no longer holds ids back; its ids in the middle of the age list go', () => {
    const d = new BranchDedupe(3, 16)
    for (const id of [1, 2, 3]) d.admit(0, id)
    d.admit(2, 2) // id 2 waits only for branch 1; ids 1 and 3 for branches 1 and 2
    d.branchDone(1)
    expect(d.size).toBe(2)
    expect(d.admit(2, 1)).toBe(false)
    expect(d.admit(2, 3)).toBe(false)
    expect(d.size).toBe(0)
  })

  it('decides exactly as the plain implementation with a large window and ids spread over 2^40 (hash table probing)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ branch: fc.integer({ min: 0, max: 2 }), id: fc.integer({ min: 0, max: 3000 }) }), { minLength: 500, maxLength: 3000 }),
        (ops) => {
          const pooled = new BranchDedupe(3, 700)
          const plain = new PlainDedupe(3, 700)
          for (const o of ops) {
            // Ids that share their low bits, and ids beyond 32 bits, collide in the table.
            const id = o.id % 2 === 0 ? o.id * 1024 : 2 ** 40 + o.id
            expect(pooled.admit(o.branch, id)).toBe(plain.admit(o.branch, id))
          }
          expect(pooled.size).toBe(plain.size)
        },
      ),
      { numRuns: 30 },
    )
  })

  it('decides exactly as the plain implementation for random branch outputs (property)', () => {
    const op = fc.oneof(
      { weight: 12, arbitrary: fc.record({ branch: fc.integer({ min: 0, max: 3 }), id: fc.integer({ min: 0, max: 40 }) }) },
      { weight: 1, arbitrary: fc.record({ done: fc.integer({ min: 0, max: 3 }) }) },
    )
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 24 }), fc.array(op, { maxLength: 300 }), (branches, window, ops) => {
        const pooled = new BranchDedupe(branches, window)
        const plain = new PlainDedupe(branches, window)
        for (const o of ops) {
          if ('done' in o) {
            const b = o.done % branches
            pooled.branchDone(b)
            plain.branchDone(b)
          } else {
            const b = o.branch % branches
            expect(pooled.admit(b, o.id)).toBe(plain.admit(b, o.id))
          }
          expect(pooled.size).toBe(plain.size)
        }
      }),
      { numRuns: 400 },
    )
  })
})
