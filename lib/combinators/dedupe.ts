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

/** Marks the end of the age list and of the free list. */
const NONE = -1

/**
 * Decides, per frame a branch yields, whether it is emitted or is a copy of a frame another branch already yielded.
 * Exact while the id is remembered: until every live branch yielded it as often as it was emitted, or until `window`
 * newer ids pushed it out (a branch that holds a frame back for longer than that may let a second copy through).
 *
 * Memory is a pool of slots in typed arrays (per slot: the id, how many times each branch yielded it, how many copies
 * were emitted, how many live branches are behind) linked oldest to newest, and an open-addressing hash table from id
 * to slot (linear probing, at most half full, deletion by backward shift): remembering, forgetting and pushing out the
 * oldest id are O(1) and allocate nothing per frame (the pool and the table grow by doubling up to `window` slots).
 *
 * @example
 * ```ts
 * const d = new BranchDedupe(2, 1024)
 * d.admit(0, frame.id) // true: emit
 * d.admit(1, frame.id) // false: same object from the other branch
 * ```
 */
export class BranchDedupe {
  /** The hash table: `slot + 1` per cell, 0 when empty; `table.length` is a power of two at least twice the pool. */
  private table = new Int32Array(32)
  private shift = 27
  private count = 0
  private readonly live: boolean[]
  private liveCount: number
  private slots = 0
  private ids = new Float64Array(0)
  /** `counts[slot * branches + b]`: how many times branch `b` yielded the slot's frame since it was remembered. */
  private counts = new Uint32Array(0)
  /** How many copies of the slot's frame were emitted: the highest count. */
  private emitted = new Uint32Array(0)
  /** Live branches whose count is below `emitted`. */
  private behind = new Int32Array(0)
  /** Age list (oldest first) for used slots; `newer` also links the free slots. */
  private older = new Int32Array(0)
  private newer = new Int32Array(0)
  private oldest = NONE
  private newest = NONE
  private free = NONE

  constructor(
    private readonly branches: number,
    private readonly window: number,
  ) {
    this.live = new Array<boolean>(branches).fill(true)
    this.liveCount = branches
  }

  /** Number of ids remembered (for tests and diagnostics). */
  get size(): number {
    return this.count
  }

  /** Records that `branch` yielded the frame `id`; true when it must be emitted. */
  admit(branch: number, id: number): boolean {
    const slot = this.find(id)
    if (slot < 0) {
      if (this.liveCount <= 1) return true
      if (this.count >= this.window) this.forget(this.oldest)
      this.remember(id, branch, this.liveCount - (this.live[branch] === true ? 1 : 0))
      return true
    }
    const n = this.branches
    const base = slot * n
    const c = ((this.counts[base + branch] as number) + 1) >>> 0
    this.counts[base + branch] = c
    if (c > (this.emitted[slot] as number)) {
      this.emitted[slot] = c
      let behind = 0
      for (let j = 0; j < n; j++) if (this.live[j] === true && (this.counts[base + j] as number) < c) behind++
      this.behind[slot] = behind
      if (behind === 0) this.forget(slot)
      return true
    }
    if (c === this.emitted[slot] && this.live[branch] === true) {
      const behind = (this.behind[slot] as number) - 1
      this.behind[slot] = behind
      if (behind <= 0) this.forget(slot)
    }
    return false
  }

  /** `branch` will yield nothing more: forget the ids only it was still expected to yield. */
  branchDone(branch: number): void {
    if (this.live[branch] !== true) return
    this.live[branch] = false
    this.liveCount--
    for (let slot = this.oldest; slot !== NONE; ) {
      const next = this.newer[slot] as number
      if ((this.counts[slot * this.branches + branch] as number) < (this.emitted[slot] as number)) {
        const behind = (this.behind[slot] as number) - 1
        this.behind[slot] = behind
        if (behind <= 0) this.forget(slot)
      }
      slot = next
    }
  }

  /** Forgets everything. */
  clear(): void {
    while (this.oldest !== NONE) this.forget(this.oldest)
  }

  /** Takes a slot for `id`, first yielded once by `branch`, as the newest. */
  private remember(id: number, branch: number, behind: number): void {
    if (this.free === NONE) this.grow()
    const slot = this.free
    this.free = this.newer[slot] as number
    this.ids[slot] = id
    this.counts.fill(0, slot * this.branches, (slot + 1) * this.branches)
    this.counts[slot * this.branches + branch] = 1
    this.emitted[slot] = 1
    this.behind[slot] = behind
    this.older[slot] = this.newest
    this.newer[slot] = NONE
    if (this.newest === NONE) this.oldest = slot
    else this.newer[this.newest] = slot
    this.newest = slot
    this.insert(id, slot)
  }

  /** Unlinks `slot` from the age list, returns it to the free list and forgets its id. */
  private forget(slot: number): void {
    const older = this.older[slot] as number
    const newer = this.newer[slot] as number
    if (older === NONE) this.oldest = newer
    else this.newer[older] = newer
    if (newer === NONE) this.newest = older
    else this.older[newer] = older
    this.remove(this.ids[slot] as number)
    this.newer[slot] = this.free
    this.free = slot
  }

  /** Doubles the pool (at most `window` slots) and puts the new slots on the free list. */
  private grow(): void {
    const from = this.slots
    const to = Math.min(this.window, Math.max(16, from * 2))
    const n = this.branches
    const ids = new Float64Array(to)
    ids.set(this.ids)
    const counts = new Uint32Array(to * n)
    counts.set(this.counts)
    const emitted = new Uint32Array(to)
    emitted.set(this.emitted)
    const behind = new Int32Array(to)
    behind.set(this.behind)
    const older = new Int32Array(to)
    older.set(this.older)
    const newer = new Int32Array(to)
    newer.set(this.newer)
    this.ids = ids
    this.counts = counts
    this.emitted = emitted
    this.behind = behind
    this.older = older
    this.newer = newer
    for (let slot = to - 1; slot >= from; slot--) {
      newer[slot] = this.free
      this.free = slot
    }
    this.slots = to
    if (this.table.length < to * 2) this.rehash(to * 2)
  }

  /** The table cell where `id` hashes to (Fibonacci hashing of its low and high 32 bits). */
  private home(id: number): number {
    return Math.imul((id | 0) ^ ((id / 4294967296) | 0), 0x9e3779b1) >>> this.shift
  }

  /** The slot remembering `id`, or -1. */
  private find(id: number): number {
    const table = this.table
    const mask = table.length - 1
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const cell = table[i] as number
      if (cell === 0) return -1
      if (this.ids[cell - 1] === id) return cell - 1
    }
  }

  private insert(id: number, slot: number): void {
    const table = this.table
    const mask = table.length - 1
    let i = this.home(id)
    while (table[i] !== 0) i = (i + 1) & mask
    table[i] = slot + 1
    this.count++
  }

  /** Removes `id` from the table, moving later cells of its probe run back so that every id stays reachable. */
  private remove(id: number): void {
    const table = this.table
    const mask = table.length - 1
    let i = this.home(id)
    for (;;) {
      const cell = table[i] as number
      if (cell === 0) return
      if (this.ids[cell - 1] === id) break
      i = (i + 1) & mask
    }
    this.count--
    let hole = i
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const cell = table[j] as number
      if (cell === 0) break
      const want = this.home(this.ids[cell - 1] as number)
      // The cell may fill the hole unless its home lies cyclically after the hole, up to the cell itself.
      const stays = hole <= j ? want > hole && want <= j : want > hole || want <= j
      if (!stays) {
        table[hole] = cell
        hole = j
      }
    }
    table[hole] = 0
  }

  /** Rebuilds the table with `size` cells (a power of two) from the remembered slots. */
  private rehash(size: number): void {
    let cells = 32
    while (cells < size) cells *= 2
    this.table = new Int32Array(cells)
    this.shift = 32 - Math.log2(cells)
    this.count = 0
    for (let slot = this.oldest; slot !== NONE; slot = this.newer[slot] as number) this.insert(this.ids[slot] as number, slot)
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
