/**
 * Pull mode of a task's output: the reader of the output pulls the pipeline itself, instead of a driver loop copying
 * every frame from the pipeline into the output queue. Used by `run()`, whose consumer is the only reader.
 *
 * - A frame the pipeline has ready (`tryNext`: fused stages, the input queue) is handed to the reader in the same
 *   call, with no queue and no extra promise in between.
 * - When nothing is ready, one `next()` of the pipeline is started and the reader waits on the output queue; the
 *   frame lands there. So the output queue stays the place where an interruption finds (and drops) output and puts
 *   `startInterruption` ahead of it, and a cancel ends the reader's wait; it holds at most one pulled frame.
 * - The pipeline advances only while the reader reads (like a chain of generators); what it does with each frame
 *   (stale output, `end`, the interruption bookkeeping) is the task's `accept`, the same as in push mode.
 * - Every `FRAMES_PER_TURN` frames the next pull waits for a macrotask, so frames that are always ready never keep
 *   timers and I/O (a cancel deadline, an abort) from running.
 * @module
 */
import type { Frame } from '../frames/types.js'
import type { Channel } from '../internal/channel.js'
import { onNextTurn } from '../internal/turn.js'
import { NOT_A_FRAME, pullOnce, Stage, type SyncPull } from './stage.js'
import { yielded } from '../internal/yielded.js'

/** How many frames are taken in a row before the event loop gets a turn (timers, I/O). */
export const FRAMES_PER_TURN = 512

/** What the task provides to the puller. */
export interface PullHost {
  /** True once the task is cancelled, stopped, failed or finished: nothing may be pulled any more. */
  stopping(): boolean
  /** Handles a frame the pipeline handed over; true when it goes to the reader. */
  accept(frame: Frame): boolean
  /** The pipeline has nothing more. */
  drained(): void
  /** The pipeline's `next()` threw or rejected (something escaped the stages). */
  broke(err: unknown): void
}

type Pipeline = AsyncIterator<Frame> & Partial<SyncPull<Frame>>

/** The reader-driven pull of a task's output; see the module documentation. */
export class OutputPuller {
  private it: Pipeline | undefined
  /** The pipeline's last stage when it is one: awaited raw, this puller being its guard (one reaction less per frame). */
  private stage: Stage | undefined
  /** A `next()` of the pipeline is in flight (or waits for its macrotask): nothing else may pull meanwhile. */
  private busy = false
  /** The pipeline is exhausted or broke. */
  private over = false
  private sinceTurn = 0
  private readonly pullAsync = (): void => {
    const it = this.it as Pipeline
    if (this.host.stopping()) {
      this.busy = false
      return
    }
    pullOnce(it, this.stage, this.onResult, this.onError, this.onRawResult, this.onRawError)
  }
  private readonly onRawResult = (raw: IteratorResult<Frame>): void => {
    const r = (this.stage as Stage).rawResult(raw)
    if (r === NOT_A_FRAME) onNextTurn(this.pullAsync)
    else if (r === undefined) {
      // Dropped (stale): ask again at once.
      this.busy = false
      const next = this.take()
      if (next !== undefined) this.hand(next.value)
    } else this.onResult(r)
  }
  private readonly onRawError = (err: unknown): void => {
    if ((this.stage as Stage).rawError(err)) this.pullAsync()
    else this.onResult({ done: true, value: undefined })
  }
  private readonly onResult = (r: IteratorResult<Frame>): void => {
    this.busy = false
    if (this.host.stopping()) return
    if (r.done === true) {
      this.end()
      return
    }
    const next = this.host.accept(r.value) ? r : this.take()
    if (next !== undefined) this.hand(next.value)
  }
  private readonly onError = (err: unknown): void => {
    this.busy = false
    this.over = true
    this.host.broke(err)
  }
  /** Pulls what follows `end` (dropped by the task) until the pipeline is exhausted, without waiting for the reader. */
  private readonly drain = (): void => {
    const next = this.take()
    if (next !== undefined) this.hand(next.value)
  }

  constructor(
    private readonly host: PullHost,
    private readonly out: Channel<Frame>,
  ) {}

  /** Starts pulling `pipeline` (the task's output iterator) on the reader's demand. */
  begin(pipeline: AsyncIterator<Frame> | undefined): void {
    this.it = pipeline
    this.stage = pipeline instanceof Stage ? pipeline : undefined
  }

  /**
   * The next frame for the reader when the pipeline has one ready now, else `undefined`: a pull has been arranged
   * (or the run is over) and the reader waits on the output queue. The frame counts as delivered (the output's
   * `onDeliver` sees it). Call it only when the output queue is empty.
   */
  next(): IteratorResult<Frame> | undefined {
    const r = this.take()
    if (r === undefined) return undefined
    const frame = r.value
    const out = this.out
    // Something reached the output queue while the pipeline was pulled (an interruption's startInterruption): it
    // goes first.
    if (out.size > 0) {
      out.push(frame)
      const first = out.tryTake()
      return first === undefined ? undefined : yielded(first.value)
    }
    out.onDeliver?.(frame)
    if (frame.kind === 'control' && frame.type === 'end') queueMicrotask(this.drain)
    return r
  }

  /** Puts a frame pulled while the reader waits into the output queue (the reader gets it from there). */
  private hand(frame: Frame): void {
    void this.out.push(frame)
    if (frame.kind === 'control' && frame.type === 'end') queueMicrotask(this.drain)
  }

  /**
   * Pulls until the pipeline hands over a frame for the reader (its result is returned as is: one object less per
   * frame), or arranges an async pull.
   */
  private take(): IteratorYieldResult<Frame> | undefined {
    if (this.busy || this.over) return undefined
    const it = this.it
    if (it === undefined) return undefined
    const tryNext = it.tryNext
    for (;;) {
      if (this.host.stopping()) return undefined
      if (++this.sinceTurn >= FRAMES_PER_TURN) {
        this.sinceTurn = 0
        this.busy = true
        onNextTurn(this.pullAsync)
        return undefined
      }
      const r = tryNext === undefined ? undefined : tryNext.call(it)
      if (r === undefined) {
        this.busy = true
        this.pullAsync()
        return undefined
      }
      if (r.done === true) {
        this.end()
        return undefined
      }
      if (this.host.accept(r.value)) return r
    }
  }

  private end(): void {
    if (this.over) return
    this.over = true
    this.host.drained()
  }
}
