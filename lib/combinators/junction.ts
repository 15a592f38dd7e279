/**
 * The engine behind `parallel`, `syncParallel` and `sequential`: a fan-out of the input to every branch, one pump
 * per branch, and a join that decides when and in which order branch output leaves the element.
 *
 * Fan-out. Each branch reads a {@link BranchInput} of `capacity` frames. In free mode (`parallel`, `sequential`)
 * one feeder reads the source while no branch input is full, so branches run decoupled by up to `capacity` frames
 * and the slowest one sets the pace. In lock-step mode (`syncParallel`, and a `parallel` nested in a `syncParallel`
 * branch) the source is read only when the consumer waits, nothing is queued for it, and every branch waits for its
 * next frame: a branch "has finished with" a frame when it asks for the next one.
 *
 * Merge. One pump per branch pulls the branch output and hands each frame to the join; what the join emits goes to
 * one bounded output queue (`capacity` frames). A pump that finds the queue full waits in a FIFO of waiting
 * pumps, so every branch gets its turn (a busy branch cannot starve another) and per-branch order is kept.
 *
 * Join. `start` is emitted once, when every branch has passed it (yielded it, finished with it, or ended); output a
 * branch yields after its `start` waits until then. `end` (or `cancel`) is emitted once, when every branch has
 * yielded it or ended; it is the last frame out: a frame a branch yields after that is dropped and reported
 * upstream as a non-fatal `error` (silently when the run was cancelled). Other frames yielded by several branches
 * (same id) are emitted once ({@link BranchDedupe}). Upstream frames from branches go on once per id.
 * @module
 */
import type { Context } from '../core/context.js'
import type { Processor } from '../core/processor.js'
import { NOT_A_FRAME, Stage, errorMessage, type SyncPull } from '../core/stage.js'
import { FatalError, isFatal } from '../errors.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { Deque } from '../internal/channel.js'
import { BranchInput, type BranchInputEvents, type InputItem } from './branch-input.js'
import { BranchDedupe, RecentIds } from './dedupe.js'
import { isLockstep, lockstepChild } from './lockstep.js'
import { closeQuietly, settleWithin } from '../internal/close.js'
import { macrotask, onNextTurn } from '../internal/turn.js'
import { stampEpoch } from '../interruption/epoch-stamp.js'
import { ledgerOf } from '../interruption/ledger.js'
import { readEpochOf } from '../interruption/read-epoch.js'
import { Waiting, yielded } from '../internal/yielded.js'

/** How the join orders branch output. */
export type JoinMode = 'parallel' | 'sync' | 'sequential'

/** Everything a junction needs besides its source and context. */
export interface JunctionConfig {
  readonly mode: JoinMode
  /** Guarded branch processors (each wrapped with `pipeline`). */
  readonly branches: readonly Processor[]
  /** Frames each branch input holds, and frames the output queue holds. */
  readonly capacity: number
  /** Ids the cross-branch de-duplication remembers at most. */
  readonly dedupeWindow: number
  /** `sequential`: frames held for later pipelines before the element fails. */
  readonly maxBuffered: number
}

/** A frame a branch yielded, held until its turn (a class, not a literal per frame: see `lib/internal/yielded.ts`). */
class Held {
  constructor(
    readonly frame: Frame,
    /** 1 when the branch had passed `start` when it yielded the frame (it must follow the joined `start`). */
    readonly afterStart: 0 | 1,
  ) {}
}

interface Reader {
  resolve(r: IteratorResult<Frame>): void
  reject(err: unknown): void
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
const DONE_PROMISE = (): Promise<IteratorReturnResult<undefined>> => Promise.resolve(DONE)
const isDataFrame = (frame: Frame): boolean => frame.kind === 'data'
/** The frames an interruption drops from the element's queues. */
const droppedByInterruption = (frame: Frame): boolean => isDataFrame(frame) && frame.uninterruptible !== true

/**
 * The iterator of a source; a sync iterable (an array given to it-pipe) is accepted too, and read without a hop
 * (`tryNext`, which may throw what the iterable throws).
 */
function iteratorOf(source: AsyncIterable<Frame> | Iterable<Frame>): AsyncIterator<Frame> & Partial<SyncPull<Frame>> {
  const asyncFn = (source as AsyncIterable<Frame>)[Symbol.asyncIterator]
  if (typeof asyncFn === 'function') return asyncFn.call(source)
  const syncFn = (source as Iterable<Frame>)[Symbol.iterator]
  if (typeof syncFn !== 'function') throw new TypeError('parallel: the source must be an AsyncIterable or Iterable of frames')
  const it = syncFn.call(source)
  return {
    next: () => Promise.resolve(it.next()),
    tryNext: () => it.next(),
    return: () => Promise.resolve(it.return?.() ?? DONE),
  }
}

function isStart(frame: Frame): boolean {
  return frame.kind === 'control' && frame.type === 'start'
}

function isTerminal(frame: Frame): boolean {
  return (frame.kind === 'control' && frame.type === 'end') || (frame.kind === 'system' && frame.type === 'cancel')
}

/** Input frames after which the fan-out closes every branch input. */
function closesInput(frame: Frame): boolean {
  return isTerminal(frame) || (frame.kind === 'system' && frame.type === 'stopTask')
}

/** A running fan-out / join; see the module documentation. */
export class Junction implements AsyncIterableIterator<Frame>, BranchInputEvents {
  private readonly n: number
  private readonly mode: JoinMode
  private readonly lockstep: boolean
  private readonly cap: number
  private readonly base: Context
  private readonly sourceIterable: AsyncIterable<Frame> | Iterable<Frame>
  private src: (AsyncIterator<Frame> & Partial<SyncPull<Frame>>) | undefined

  private inputs: BranchInput[] = []
  private outs: AsyncIterator<Frame>[] = []
  private ctxs: Context[] = []
  private readonly running: boolean[]
  private runningCount: number

  // Join state.
  private readonly phase: Uint8Array
  private readonly lastTaken: Float64Array
  private elem = 0
  private startFrame: Frame | undefined
  private startEmitted = false
  private terminalFrame: Frame | undefined
  private terminalEmitted = false
  private startSeq = -1
  private inputStart: Frame | undefined
  private inputTerminal: Frame | undefined
  private seq = 0
  private readonly held: Deque<Held>[]
  /** Branches that ended while they still held output: they leave the de-duplication once it is released. */
  private readonly retiring: boolean[]
  private heldCount = 0
  private current = 0
  private advancing = false
  private again = false
  private readonly dedupe: BranchDedupe
  private readonly upRecent = new RecentIds(256)
  private readonly sysRecent: RecentIds | undefined
  /** Id of the `startInterruption` frame this element sent itself (after its input ended). */
  private sentInterruption = -1
  /** The interruption this element sends itself while its `start` has not gone out yet: emitted right after it. */
  private interruptionAfterStart: Frame | undefined

  // Sync batches.
  private batchActive = false
  private readonly batch: Frame[][]
  private readonly doneInBatch: boolean[]

  // Output queue.
  private readonly ready = new Deque<Frame>()
  private reader: Reader | undefined
  private readonly spaceWaiters = new Deque<() => void>()
  private admitted = 0

  // Feeding.
  private feeding = false
  private inputClosed = false
  private spaceSignal: (() => void) | undefined

  private started = false
  private finished = false
  private failure: { error: unknown } | undefined
  private closing: Promise<void> | undefined
  private cleanedUp = false
  private removeUpstream: (() => void) | undefined
  private removeInterrupt: (() => void) | undefined
  private removeCancel: (() => void) | undefined

  constructor(
    private readonly config: JunctionConfig,
    source: AsyncIterable<Frame>,
    ctx: Context,
  ) {
    this.n = config.branches.length
    this.mode = config.mode
    this.base = ctx
    this.sourceIterable = source
    this.lockstep = config.mode === 'sync' || (config.mode === 'parallel' && isLockstep(ctx))
    this.cap = config.capacity
    this.running = new Array<boolean>(this.n).fill(true)
    this.runningCount = this.n
    this.phase = new Uint8Array(this.n)
    this.lastTaken = new Float64Array(this.n).fill(-1)
    this.held = Array.from({ length: this.n }, () => new Deque<Held>(4))
    this.retiring = new Array<boolean>(this.n).fill(false)
    this.batch = Array.from({ length: this.n }, () => [] as Frame[])
    this.doneInBatch = new Array<boolean>(this.n).fill(false)
    this.dedupe = new BranchDedupe(this.n, config.dedupeWindow)
    this.sysRecent = config.mode === 'sequential' ? new RecentIds(256) : undefined
    this.setUpBranches()
  }

  /**
   * Creates the branch contexts and starts the branch processors' iterators (nothing runs until they are read).
   * Done at construction, like the stages of a pipeline, so processors that measure metrics inside branches are
   * registered before the task sends its initial metrics frame.
   */
  private readonly stampHandOver = (frame: Frame): void => {
    if (isDataFrame(frame) && frame.uninterruptible !== true) stampEpoch(this.base, frame, this.base.runtime.interruptEpoch)
  }

  private setUpBranches(): void {
    const base = this.base
    const up = (frame: Frame): void => this.upFromBranch(frame)
    for (let b = 0; b < this.n; b++) {
      const name = `${base.name}/branch${b}`
      const ctx = this.mode === 'sync' ? lockstepChild(base, name, up) : base.child(name, up)
      this.ctxs.push(ctx)
      this.inputs.push(new BranchInput(b, this.cap, this))
    }
    for (let b = 0; b < this.n; b++) {
      const branch = this.config.branches[b] as Processor
      try {
        const out = branch(this.inputs[b] as BranchInput, this.ctxs[b] as Context)[Symbol.asyncIterator]()
        // The element reads its input and emits branch output concurrently, so its own last read says nothing about
        // what it emits: each data frame is stamped with the epoch in which its branch handed it over, and the stage
        // of the element drops it if an interruption came since — also one that comes while it is on its way out.
        if (out instanceof Stage) out.onDeliver = this.stampHandOver
        this.outs.push(out)
      } catch (err) {
        const failure = err
        this.outs.push({ next: () => Promise.reject(failure) })
      }
    }
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<Frame>> {
    if (!this.started) this.begin()
    const frame = this.ready.shift()
    if (frame !== undefined) {
      this.admit()
      return Promise.resolve(yielded(frame))
    }
    if (this.failure !== undefined) return Promise.reject(this.failure.error)
    if (this.finished) return DONE_PROMISE()
    if (this.isComplete()) {
      this.complete()
      return DONE_PROMISE()
    }
    if (this.reader !== undefined) return Promise.reject(new TypeError('parallel: next() called while a read is pending'))
    return new Promise<IteratorResult<Frame>>((resolve, reject) => {
      this.reader = new Waiting(resolve, reject)
      this.tryFeed()
    })
  }

  /**
   * A frame already waiting in the output queue, handed over without a hop, else `undefined` (call `next()`). Never
   * throws; a failure or the end is reported by `next()`.
   */
  tryNext(): IteratorResult<Frame> | undefined {
    if (!this.started) return undefined
    const frame = this.ready.shift()
    if (frame === undefined) return undefined
    this.admit()
    return yielded(frame)
  }

  /**
   * Tears every branch down (each branch's `finally` runs) and closes the source, without pulling anything. Resolves
   * once every branch has closed, or after the run's `cancelTimeoutMs` when one never returns (a branch parked on a
   * promise that never settles cannot hold the consumer's `break`).
   */
  return(): Promise<IteratorResult<Frame>> {
    if (this.closing === undefined) {
      this.finished = true
      this.closing = this.shutdown()
    }
    return settleWithin(this.closing, this.base.runtime.cancelTimeoutMs).then(DONE_PROMISE)
  }

  // ---- set-up ----------------------------------------------------------------------------------------------------

  private begin(): void {
    this.started = true
    const base = this.base
    this.src = iteratorOf(this.sourceIterable)
    this.removeCancel = base.runtime.onCancel(() => this.onCancel())
    this.removeUpstream = base.onUpstream((frame, next) => this.fromDownstream(frame, next))
    this.removeInterrupt = base.runtime.onInterrupt(() => this.onInterrupt())
    for (let b = 0; b < this.n; b++) void this.pump(b)
    if (!this.lockstep) void this.feedLoop()
  }

  // ---- fan-out ---------------------------------------------------------------------------------------------------

  private anyFull(): boolean {
    for (const input of this.inputs) if (input.full) return true
    return false
  }

  private wakeFeeder(): void {
    const signal = this.spaceSignal
    if (signal !== undefined) {
      this.spaceSignal = undefined
      signal()
    }
  }

  /**
   * Free mode: reads the source while no branch input is full. Frames the source has ready (`tryNext`: a library
   * iterator, a synchronous iterable) are taken without a hop.
   */
  private async feedLoop(): Promise<void> {
    const src = this.src as AsyncIterator<Frame> & Partial<SyncPull<Frame>>
    const ready = src.tryNext
    try {
      for (;;) {
        while (!this.finished && !this.base.runtime.cancelled && this.anyFull()) {
          await new Promise<void>((resolve) => {
            this.spaceSignal = resolve
          })
        }
        if (this.finished || this.inputClosed || this.runningCount === 0 || this.base.runtime.cancelled) return
        const r = (ready === undefined ? undefined : ready.call(src)) ?? (await src.next())
        if (this.finished || this.base.runtime.cancelled) return
        if (r.done === true) {
          this.closeInputs()
          return
        }
        if (this.arrivedStale(r.value)) continue
        this.distribute(r.value)
      }
    } catch (err) {
      this.fail(err)
    }
  }

  /** Lock-step mode: reads one frame when the consumer waits and every branch has finished with the last one. */
  private tryFeed(): void {
    if (!this.lockstep || this.feeding || this.inputClosed || this.finished || !this.started || this.base.runtime.cancelled) return
    if (this.reader === undefined || this.ready.length > 0 || this.admitted > 0 || this.spaceWaiters.length > 0) return
    if (this.batchActive || this.runningCount === 0) return
    for (let b = 0; b < this.n; b++) if (!this.idle(b)) return
    this.feeding = true
    let read: Promise<IteratorResult<Frame>>
    try {
      read = (this.src as AsyncIterator<Frame>).next()
    } catch (err) {
      this.feeding = false
      this.fail(err)
      return
    }
    read.then(
      (r) => {
        this.feeding = false
        if (this.finished) return
        if (r.done === true) this.closeInputs()
        else if (!this.arrivedStale(r.value)) {
          if (this.mode === 'sync') this.batchActive = true
          this.distribute(r.value)
          this.checkBarrier()
        }
        this.settle()
      },
      (err: unknown) => {
        this.feeding = false
        this.fail(err)
      },
    )
  }

  /** A branch that is not running, waits for input, or stopped reading has finished with what it took. */
  private idle(b: number): boolean {
    if (this.running[b] !== true) return true
    const input = this.inputs[b] as BranchInput
    return input.waiting || input.returned
  }

  /**
   * True (and the frame is dropped, as stale) when the source handed `frame` over before an interruption that came
   * while it was on its way to the branch inputs: the interruption could not find it there, and it answers the
   * interrupted turn. The epoch of the hand-over is the one the element's source view recorded.
   */
  private arrivedStale(frame: Frame): boolean {
    const epoch = readEpochOf(this.src)
    if (epoch === undefined || epoch === this.base.runtime.interruptEpoch || !droppedByInterruption(frame)) return false
    ledgerOf(this.base.runtime).stale(frame, epoch)
    return true
  }

  private distribute(frame: Frame): void {
    const item: InputItem = { frame, seq: this.seq++ }
    if (this.startSeq < 0 && isStart(frame)) {
      this.startSeq = item.seq
      this.inputStart = frame
    }
    if (this.inputTerminal === undefined && isTerminal(frame)) this.inputTerminal = frame
    if (item.seq === 0 && this.startSeq < 0 && this.elem === 0) {
      // The run has no start frame: nothing to wait for.
      this.phase.fill(1)
      this.advance()
    }
    const front = frame.kind === 'system' && (frame.type === 'cancel' || frame.type === 'stopTask')
    for (const input of this.inputs) input.offer(item, front)
    if (closesInput(frame)) this.closeInputs()
  }

  private closeInputs(): void {
    if (this.inputClosed) return
    this.inputClosed = true
    for (const input of this.inputs) input.close()
  }

  /** {@link BranchInputEvents}: a branch took an input frame. */
  onTake(branch: number, item: InputItem): void {
    this.lastTaken[branch] = item.seq
    if (this.phase[branch] === 0 && this.startSeq >= 0 && item.seq > this.startSeq) this.passStart(branch)
    if (this.spaceSignal !== undefined) this.wakeFeeder()
  }

  /** {@link BranchInputEvents}: a branch waits for input (it finished with everything it took). */
  onIdle(branch: number): void {
    if (this.finished) return
    if (this.phase[branch] === 0 && this.startSeq >= 0 && (this.lastTaken[branch] as number) >= this.startSeq) {
      this.passStart(branch)
    }
    if (this.lockstep) {
      this.checkBarrier()
      this.tryFeed()
    }
  }

  private passStart(branch: number): void {
    if (this.phase[branch] !== 0) return
    this.phase[branch] = 1
    this.advance()
  }

  // ---- merge -----------------------------------------------------------------------------------------------------

  private async pump(b: number): Promise<void> {
    const it = this.outs[b] as AsyncIterator<Frame>
    // A branch ending in a guarded stage is awaited raw: this pump's own try is that stage's guard (one reaction less
    // per output; errors are still reported naming the stage, which alone restarts).
    const stage = it instanceof Stage ? it : undefined
    try {
      const runtime = this.base.runtime
      for (;;) {
        // Once the run is cancelled the branches are closed (return()), never pulled again.
        if (runtime.cancelled) return
        let r: IteratorResult<Frame>
        if (stage === undefined) r = await it.next()
        else {
          let outcome: IteratorResult<Frame> | undefined | typeof NOT_A_FRAME
          try {
            outcome = stage.rawResult(await stage.rawNext())
          } catch (err) {
            outcome = stage.rawError(err) ? undefined : DONE
          }
          if (outcome === NOT_A_FRAME) {
            await macrotask()
            continue
          }
          if (outcome === undefined) continue
          r = outcome
        }
        if (this.finished || runtime.cancelled) return
        if (r.done === true) break
        if (!(this.mode === 'sync' && this.batchActive) && this.ready.length + this.admitted >= this.cap) {
          await new Promise<void>((resolve) => this.spaceWaiters.push(resolve))
          this.admitted--
          if (this.finished) return
        }
        this.accept(b, r.value)
      }
    } catch (err) {
      if (this.finished) return
      this.upFromBranch(
        errorFrame(errorMessage(err), { fatal: isFatal(err), processor: `${this.base.name}/branch${b}`, cause: err }),
      )
    }
    this.pumpDone(b)
  }

  /** Lets waiting pumps in, in arrival order, while the output queue has room. */
  private admit(): void {
    while (this.spaceWaiters.length > 0 && this.ready.length + this.admitted < this.cap) {
      this.admitted++
      ;(this.spaceWaiters.shift() as () => void)()
    }
  }

  private accept(b: number, frame: Frame): void {
    if (this.mode === 'sync' && this.batchActive) {
      ;(this.batch[b] as Frame[]).push(frame)
      return
    }
    this.join(b, frame)
    this.admit()
  }

  private pumpDone(b: number): void {
    if (this.running[b] !== true) return
    this.running[b] = false
    this.runningCount--
    void (this.inputs[b] as BranchInput).return()
    if (this.mode === 'sync' && this.batchActive) {
      this.doneInBatch[b] = true
      this.checkBarrier()
    } else this.retire(b)
    this.wakeFeeder()
    this.tryFeed()
    this.settle()
  }

  /**
   * The branch yields nothing more: it has passed every lifecycle frame. The de-duplication forgets it only once its
   * held output has gone out: a frame it still holds must be matched against the copies other branches yield later.
   */
  private retire(b: number): void {
    this.retiring[b] = true
    this.heldDrained(b)
    if (this.phase[b] !== 2) {
      this.phase[b] = 2
      this.advance()
    }
  }

  // ---- sync batches ----------------------------------------------------------------------------------------------

  private checkBarrier(): void {
    if (!this.batchActive || this.finished) return
    for (let b = 0; b < this.n; b++) if (!this.idle(b)) return
    this.batchActive = false
    for (let b = 0; b < this.n; b++) {
      const list = this.batch[b] as Frame[]
      if (list.length === 0) continue
      this.batch[b] = []
      for (const frame of list) this.join(b, frame)
    }
    for (let b = 0; b < this.n; b++) {
      if (this.doneInBatch[b] === true) {
        this.doneInBatch[b] = false
        this.retire(b)
      }
    }
    this.admit()
    this.settle()
  }

  // ---- join ------------------------------------------------------------------------------------------------------

  private join(b: number, frame: Frame): void {
    if (this.terminalEmitted) {
      this.late(b, frame)
      return
    }
    if (isStart(frame)) {
      // A second start from the same branch is dropped: a run starts once.
      if (this.phase[b] === 0) {
        this.startFrame ??= frame
        this.phase[b] = 1
        this.advance()
      }
      return
    }
    if (isTerminal(frame)) {
      this.terminalFrame ??= frame
      if (this.phase[b] !== 2) {
        this.phase[b] = 2
        this.advance()
      }
      return
    }
    const afterStart: 0 | 1 = this.phase[b] === 0 && !this.awaitingStart() ? 0 : 1
    if (this.mode === 'sequential') {
      const direct = (b < this.current || (b === this.current && (this.held[b] as Deque<Held>).length === 0)) && afterStart <= this.elem
      if (direct || (frame.kind === 'system' && afterStart <= this.elem)) this.out(b, frame)
      else this.hold(b, frame, afterStart)
      return
    }
    if (afterStart > this.elem || (this.held[b] as Deque<Held>).length > 0) this.hold(b, frame, afterStart)
    else this.out(b, frame)
  }

  /**
   * True while a start frame is expected and has not been joined: it was read from the input, or nothing has been read
   * yet in a run that has one (a branch that yields before reading its input must not overtake the start).
   */
  private awaitingStart(): boolean {
    return this.elem === 0 && (this.startSeq >= 0 || (this.seq === 0 && this.base.runtime.start !== undefined))
  }

  private hold(b: number, frame: Frame, afterStart: 0 | 1): void {
    ;(this.held[b] as Deque<Held>).push(new Held(frame, afterStart))
    this.heldCount++
    if (this.mode === 'sequential' && this.heldCount > this.config.maxBuffered) {
      this.fail(
        new FatalError(
          `sequential: more than ${this.config.maxBuffered} frames of later pipelines are waiting for pipeline ${this.current} to end (raise maxBuffered)`,
        ),
      )
    }
  }

  private out(b: number, frame: Frame): void {
    if (frame.id === this.sentInterruption) return
    if (frame.kind === 'system' && this.sysRecent !== undefined) {
      if (this.sysRecent.add(frame.id)) this.emit(frame)
      return
    }
    if (this.mode === 'sequential' || this.dedupe.admit(b, frame.id)) this.emit(frame)
  }

  /** Moves the element's phase forward when every branch has passed `start` / the terminal frame. */
  private advance(): void {
    if (this.advancing) {
      this.again = true
      return
    }
    this.advancing = true
    try {
      do {
        this.again = false
        let min = 2
        for (let b = 0; b < this.n; b++) if ((this.phase[b] as number) < min) min = this.phase[b] as number
        if (this.elem === 0 && min >= 1) {
          this.elem = 1
          const start = this.startFrame ?? this.inputStart
          if (start !== undefined && !this.startEmitted) {
            this.startEmitted = true
            this.emit(start)
          }
          const interruption = this.interruptionAfterStart
          if (interruption !== undefined) {
            this.interruptionAfterStart = undefined
            this.emit(interruption)
          }
          if (this.mode !== 'sequential') this.releaseHeld()
        }
        if (this.mode === 'sequential') this.releaseSequential()
        if (this.again) continue
        if (this.elem === 1 && min === 2 && (this.mode !== 'sequential' || this.current >= this.n)) {
          this.elem = 2
          const terminal = this.terminalFrame ?? this.inputTerminal
          if (terminal !== undefined) {
            this.terminalFrame = terminal
            this.terminalEmitted = true
            this.emit(terminal)
          }
          for (let b = 0; b < this.n; b++) {
            const held = this.held[b] as Deque<Held>
            while (held.length > 0) this.late(b, (held.shift() as Held).frame)
            this.heldDrained(b)
          }
          this.heldCount = 0
        }
      } while (this.again)
    } finally {
      this.advancing = false
    }
  }

  private releaseHeld(): void {
    for (let b = 0; b < this.n; b++) {
      const held = this.held[b] as Deque<Held>
      while (held.length > 0) {
        this.heldCount--
        this.out(b, (held.shift() as Held).frame)
      }
      this.heldDrained(b)
    }
  }

  /** A retired branch whose held output is gone leaves the de-duplication. */
  private heldDrained(b: number): void {
    if (this.retiring[b] === true && (this.held[b] as Deque<Held>).length === 0) {
      this.retiring[b] = false
      this.dedupe.branchDone(b)
    }
  }

  /** `sequential`: emits the current pipeline's held output; moves to the next pipeline once one has ended. */
  private releaseSequential(): void {
    while (this.current < this.n) {
      const b = this.current
      const held = this.held[b] as Deque<Held>
      while (held.length > 0 && (held.peek() as Held).afterStart <= this.elem) {
        this.heldCount--
        this.out(b, (held.shift() as Held).frame)
      }
      this.heldDrained(b)
      if (this.phase[b] === 2 && held.length === 0) this.current++
      else break
    }
  }

  private late(b: number, frame: Frame): void {
    if (this.base.runtime.cancelled) return
    const after = this.terminalFrame?.type ?? 'end'
    this.upFromBranch(
      errorFrame(`${frame.name} from branch${b} came after the joined ${after} and was dropped`, { processor: this.base.name }),
    )
  }

  /** Puts `frame` ahead of everything waiting in the output queue. */
  private emitFirst(frame: Frame): void {
    const reader = this.reader
    if (reader !== undefined && this.ready.length === 0) {
      this.reader = undefined
      reader.resolve(yielded(frame))
      return
    }
    const first = this.ready.peek()
    if (first !== undefined && isStart(first)) {
      // ... except a `start` that has not been taken yet.
      this.ready.shift()
      this.ready.unshift(frame)
      this.ready.unshift(first)
    } else this.ready.unshift(frame)
  }

  private emit(frame: Frame): void {
    const reader = this.reader
    if (reader !== undefined && this.ready.length === 0) {
      this.reader = undefined
      reader.resolve(yielded(frame))
      return
    }
    this.ready.push(frame)
  }

  // ---- completion ------------------------------------------------------------------------------------------------

  private isComplete(): boolean {
    return this.started && this.runningCount === 0 && this.ready.length === 0 && !this.batchActive
  }

  /** Wakes a waiting reader when the element completed or failed; otherwise tries to feed it. */
  private settle(): void {
    const reader = this.reader
    if (reader === undefined) return
    if (this.failure !== undefined) {
      this.reader = undefined
      reader.reject(this.failure.error)
      return
    }
    if (this.isComplete()) {
      this.reader = undefined
      this.complete()
      reader.resolve(DONE)
      return
    }
    this.tryFeed()
  }

  private complete(): void {
    this.finished = true
    this.cleanup()
  }

  private cleanup(): void {
    if (this.cleanedUp) return
    this.cleanedUp = true
    this.removeUpstream?.()
    this.removeInterrupt?.()
    this.removeCancel?.()
    this.wakeFeeder()
    void closeQuietly(this.src)
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined || this.finished) return
    this.failure = { error: err }
    this.finished = true
    const reader = this.reader
    this.reader = undefined
    reader?.reject(err)
    this.closing = this.shutdown()
  }

  private async shutdown(): Promise<void> {
    const reader = this.reader
    this.reader = undefined
    reader?.resolve(DONE)
    while (this.spaceWaiters.length > 0) (this.spaceWaiters.shift() as () => void)()
    this.ready.clear()
    for (const held of this.held) held.clear()
    this.batchActive = false
    for (const input of this.inputs) void input.return()
    this.cleanup()
    await Promise.all(this.outs.map((it) => closeQuietly(it)))
  }

  // ---- upstream and interruptions --------------------------------------------------------------------------------

  private upFromBranch(frame: Frame): void {
    if (this.upRecent.add(frame.id)) this.base.pushUpstream(frame)
  }

  /** A frame from after the element travels through every branch's upstream handlers; each result goes on once. */
  private fromDownstream(frame: Frame, next: (frame: Frame) => void): void {
    if (this.ctxs.length === 0) {
      next(frame)
      return
    }
    const out: Frame[] = []
    for (const ctx of this.ctxs) {
      ctx.deliverUpstream(frame, (f) => {
        if (!out.some((g) => g.id === f.id)) out.push(f)
      })
    }
    for (const f of out) if (this.upRecent.add(f.id)) next(f)
  }

  /**
   * Cancel: queued frames are dropped, nothing is pulled any more (neither the source nor a branch), and the element is
   * closed: by whoever consumes it (a task returns every stage at once), or by itself on the next turn of the event
   * loop when used on its own.
   */
  private onCancel(): void {
    this.ready.removeWhere((f) => f.kind !== 'system' && !isTerminal(f))
    for (const held of this.held) this.heldCount -= held.removeWhere((h) => h.frame.kind !== 'system').length
    for (let b = 0; b < this.n; b++) this.heldDrained(b)
    for (const input of this.inputs) input.removeWhere((f) => f.kind !== 'system')
    this.wakeFeeder()
    onNextTurn(() => {
      if (this.finished) return
      this.finished = true
      this.closing = this.shutdown()
    })
  }

  /**
   * An interruption drops the data frames waiting in every buffer of the element (not those marked uninterruptible);
   * the run's delivery ledger records them. Once the element's input has ended, the task's `startInterruption` frame
   * can no longer arrive through it: the element sends the run's frame ahead of what is left (copies of it that
   * branches yield later are recognised by id and dropped).
   */
  private onInterrupt(): void {
    const runtime = this.base.runtime
    const frame = runtime.interruption
    if (this.inputClosed && !this.terminalEmitted && !this.finished && frame !== undefined && frame.id !== this.sentInterruption) {
      this.sentInterruption = frame.id
      // `start` stays the first frame out: before it has gone out, the interruption follows it.
      if (this.elem === 0 && this.startSeq >= 0) this.interruptionAfterStart = frame
      else this.emitFirst(frame)
    }
    const ledger = ledgerOf(runtime)
    const epoch = runtime.interruptEpoch - 1
    const stamps = runtime.epochStamps
    const drop = (f: Frame): boolean => {
      if (!droppedByInterruption(f)) return false
      // A frame its branch handed over before an earlier interruption (it waited for room in the output queue) answers
      // that turn, whose report is still open: its startInterruption comes out of the element after it.
      const stated = stamps?.get(f)
      ledger.dropped(f, stated !== undefined && stated < epoch ? stated : epoch)
      return true
    }
    for (const input of this.inputs) input.removeWhere(drop)
    this.ready.removeWhere(drop)
    for (const held of this.held) this.heldCount -= held.removeWhere((h) => drop(h.frame)).length
    for (let b = 0; b < this.n; b++) this.heldDrained(b)
    for (let b = 0; b < this.n; b++) {
      const list = this.batch[b] as Frame[]
      if (list.some(droppedByInterruption)) this.batch[b] = list.filter((f) => !drop(f))
    }
    this.wakeFeeder()
    this.admit()
  }
}
