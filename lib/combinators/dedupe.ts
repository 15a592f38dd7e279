/**
 * Bounded duplicate suppression for the joins of `parallel`, `syncParallel` and `sequential`.
 *
 * - {@link BranchDedupe}: downstream, across branches. The output is the multiset union of the branch outputs by
 *   frame id: a frame object yielded by several branches is emitted once (as often as the branch that yields it most
 *   often yields it). An id is remembered only while some live branch has not caught up with it, and at most
 *   `window` ids are remembered (oldest forgotten first), so memory never grows with the number of frames seen.
 * - {@link RecentIds}: upstream, a fixed ring of the most recent ids forwarded.
 * @module
 */

interface Entry {
  /** How many times each branch yielded the frame since the entry was created. */
  readonly counts: Uint32Array
  /** How many copies were emitted: the highest count. */
  emitted: number
  /** Live branches whose count is below `emitted`. */
  behind: number
}

/**
 * Decides, per frame a branch yields, whether it is emitted or is a copy of a frame another branch already yielded.
 * Exact while the id is remembered: until every live branch yielded it as often as it was emitted, or until `window`
 * newer ids pushed it out (a branch that holds a frame back for longer than that may let a second copy through).
 *
 * @example
 * ```ts
 * const d = new BranchDedupe(2, 1024)
 * d.admit(0, frame.id) // true: emit
 * d.admit(1, frame.id) // false: same object from the other branch
 * ```
 */
export class BranchDedupe {
  private readonly entries = new Map<number, Entry>()
  private readonly live: boolean[]
  private liveCount: number

  constructor(
    private readonly branches: number,
    private readonly window: number,
  ) {
    this.live = new Array<boolean>(branches).fill(true)
    this.liveCount = branches
  }

  /** Number of ids remembered (for tests and diagnostics). */
  get size(): number {
    return this.entries.size
  }

  /** Records that `branch` yielded the frame `id`; true when it must be emitted. */
  admit(branch: number, id: number): boolean {
    const entry = this.entries.get(id)
    if (entry === undefined) {
      if (this.liveCount <= 1) return true
      const counts = new Uint32Array(this.branches)
      counts[branch] = 1
      this.entries.set(id, { counts, emitted: 1, behind: this.liveCount - (this.live[branch] === true ? 1 : 0) })
      if (this.entries.size > this.window) {
        const oldest = this.entries.keys().next()
        if (oldest.done !== true) this.entries.delete(oldest.value)
      }
      return true
    }
    const c = ((entry.counts[branch] as number) + 1) >>> 0
    entry.counts[branch] = c
    if (c > entry.emitted) {
      entry.emitted = c
      let behind = 0
      for (let j = 0; j < this.branches; j++) if (this.live[j] === true && (entry.counts[j] as number) < c) behind++
      entry.behind = behind
      if (behind === 0) this.entries.delete(id)
      return true
    }
    if (c === entry.emitted && this.live[branch] === true) {
      entry.behind--
      if (entry.behind <= 0) this.entries.delete(id)
    }
    return false
  }

  /** `branch` will yield nothing more: forget the ids only it was still expected to yield. */
  branchDone(branch: number): void {
    if (this.live[branch] !== true) return
    this.live[branch] = false
    this.liveCount--
    for (const [id, entry] of this.entries) {
      if ((entry.counts[branch] as number) < entry.emitted) {
        entry.behind--
        if (entry.behind <= 0) this.entries.delete(id)
      }
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear()
  }
}

/**
 * A fixed-size memory of recently seen ids: `add(id)` is true the first time an id is seen while it is among the
 * last `size` ids added.
 *
 * @example
 * ```ts
 * const recent = new RecentIds(256)
 * recent.add(7) // true
 * recent.add(7) // false
 * ```
 */
export class RecentIds {
  private readonly set = new Set<number>()
  private readonly ring: number[]
  private next = 0

  constructor(private readonly size: number) {
    this.ring = new Array<number>(size).fill(-1)
  }

  /** True when `id` was not among the recent ids (it is now). */
  add(id: number): boolean {
    if (this.set.has(id)) return false
    const old = this.ring[this.next] as number
    if (old !== -1) this.set.delete(old)
    this.ring[this.next] = id
    this.next = (this.next + 1) % this.size
    this.set.add(id)
    return true
  }
}
