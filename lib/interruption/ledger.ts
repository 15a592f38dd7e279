/**
 * The delivery ledger of a run: for each turn (interruption epoch) which frames a sink delivered to the user and
 * which were dropped, so that an interruption can report exactly what the user received.
 *
 * - Sinks mark frames **delivered** (the task's output when its reader takes a frame, `toCallback` once the callback
 *   acknowledged it, `toWritableStream` once the write resolved, a {@link playbackMarks} sink once the user's code
 *   reports the frame played) or **accepted** (handed to a player, not yet played).
 * - Queues and stage boundaries mark frames **dropped** (an interruption flushing a queue, a stale frame dropped at a
 *   stage boundary, the task's output flushed).
 * - On an interruption the current turn closes. Its report is sent once every stage that was busy with the old turn
 *   has moved on (read a frame after the interruption, or finished), so the frames they still drop are counted; at
 *   the latest when the task finishes. It also waits for the interruption's `startInterruption` frame to reach the end
 *   of the pipeline (every queue on its way has dropped what it had to). Frames accepted but never reported played
 *   count as dropped.
 * - A turn also restarts when `stopInterruption` reaches the end of the pipeline (the user stopped speaking: what
 *   follows is the next answer).
 *
 * A frame dropped for a turn whose report already went out (a processor that ignores its signal and produces
 * concurrently may keep answering an interrupted turn for a while) is counted in `staleDropped` only: no later
 * turn's report lists it.
 *
 * Only interruptible frames (data and app frames not marked uninterruptible) are tracked. Lists are bounded
 * (`MAX_LISTED` frames each); the counts are exact.
 * @module
 */
import type { Runtime } from '../core/runtime.js'
import type { Frame } from '../frames/types.js'
import { interruptionReport, type InterruptionReportFrame, type ReportedFrame } from './report.js'
import { isInterruptible } from './uninterruptible.js'

/** How many frames each list of a turn keeps (counts stay exact beyond it). */
export const MAX_LISTED = 4096

class Turn {
  readonly delivered = new Map<number, ReportedFrame>()
  readonly dropped = new Map<number, ReportedFrame>()
  readonly pending = new Map<number, ReportedFrame>()
  deliveredCount = 0
  droppedCount = 0
  truncated = false
  constructor(readonly epoch: number) {}

  deliver(frame: Frame): void {
    if (this.delivered.has(frame.id)) return
    this.pending.delete(frame.id)
    this.dropped.delete(frame.id) && this.droppedCount--
    this.deliveredCount++
    if (this.delivered.size < MAX_LISTED) this.delivered.set(frame.id, entry(frame))
    else this.truncated = true
  }

  accept(frame: Frame): void {
    if (this.delivered.has(frame.id) || this.pending.size >= MAX_LISTED) return
    this.pending.set(frame.id, entry(frame))
  }

  drop(frame: Frame): void {
    if (this.delivered.has(frame.id) || this.dropped.has(frame.id)) return
    this.pending.delete(frame.id)
    this.droppedCount++
    if (this.dropped.size < MAX_LISTED) this.dropped.set(frame.id, entry(frame))
    else this.truncated = true
  }

  report(): InterruptionReportFrame {
    for (const [id, e] of this.pending) {
      if (this.dropped.has(id)) continue
      this.droppedCount++
      if (this.dropped.size < MAX_LISTED) this.dropped.set(id, e)
      else this.truncated = true
    }
    this.pending.clear()
    const delivered = [...this.delivered.values()].sort(byId)
    const dropped = [...this.dropped.values()].sort(byId)
    return interruptionReport({
      epoch: this.epoch,
      delivered,
      dropped,
      deliveredText: textOf(delivered),
      droppedText: textOf(dropped),
      deliveredCount: this.deliveredCount,
      droppedCount: this.droppedCount,
      truncated: this.truncated,
    })
  }
}

const byId = (a: ReportedFrame, b: ReportedFrame): number => a.id - b.id
const textOf = (list: readonly ReportedFrame[]): string => list.map((e) => e.text ?? '').join('')

function entry(frame: Frame): ReportedFrame {
  return frame.kind === 'data' && frame.type === 'text'
    ? { id: frame.id, name: frame.name, type: frame.type, text: frame.text }
    : { id: frame.id, name: frame.name, type: frame.type }
}

/** Resolves on a later turn of the event loop. */
const later: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0)

/**
 * The ledger of one run; see the module documentation. Get it with {@link ledgerOf}.
 * @example
 * ```ts
 * import { ledgerOf, type Processor } from 'apipeline-ts'
 *
 * const stats: Processor = async function* (source, ctx) {
 *   for await (const f of source) yield f
 *   if (ctx) console.log(`${ledgerOf(ctx.runtime).staleDropped} stale frames dropped`)
 * }
 * ```
 */
export class DeliveryLedger {
  private turn: Turn
  private readonly closing: Turn[] = []
  private readonly lagging = new Set<object>()
  private claims = 0
  private readonly deliveryListeners = new Set<(frame: Frame) => void>()
  private scheduled = false
  /** `startInterruption` frames sent through the pipeline that have not reached its end yet. */
  private travelling = 0
  private finished = false
  /** Frames dropped as stale at a stage boundary since the run began. */
  staleDropped = 0
  /** Where reports go (set by the task; reports are discarded while it is unset). */
  onReport: ((frame: InterruptionReportFrame) => void) | undefined

  constructor(private readonly runtime: Runtime) {
    this.turn = new Turn(runtime.interruptEpoch)
  }

  /** The current epoch (the number of interruptions so far). */
  get epoch(): number {
    return this.runtime.interruptEpoch
  }

  /** True when a sink inside the pipeline marks deliveries itself (the task's output then does not). */
  get claimed(): boolean {
    return this.claims > 0
  }

  /** A sink inside the pipeline will mark deliveries; returns the function that withdraws the claim. */
  claim(): () => void {
    this.claims++
    let done = false
    return () => {
      if (!done) {
        done = true
        this.claims--
      }
    }
  }

  /**
   * `frame` reached the user: in the current turn, or in an interrupted turn still waiting for its report when the
   * frame was accepted there (a player that finished it just as the interruption came).
   */
  delivered(frame: Frame): void {
    if (!isInterruptible(frame)) return
    this.sync()
    let turn = this.turn
    for (const t of this.closing) if (t.pending.has(frame.id)) turn = t
    turn.deliver(frame)
    for (const listener of this.deliveryListeners) listener(frame)
  }

  /** Calls `listener` with every frame marked delivered; returns the function that unsubscribes. */
  onDelivered(listener: (frame: Frame) => void): () => void {
    this.deliveryListeners.add(listener)
    return () => this.deliveryListeners.delete(listener)
  }

  /** `frame` was handed to a player that will report it played (or not, if an interruption comes first). */
  accepted(frame: Frame): void {
    if (!isInterruptible(frame)) return
    this.sync()
    this.turn.accept(frame)
  }

  /**
   * `frame` will never reach the user. `epoch`: the turn it belongs to (default: the last interrupted turn still
   * waiting for its report, else the current one).
   */
  dropped(frame: Frame, epoch?: number): void {
    if (!isInterruptible(frame)) return
    this.sync()
    this.turnOf(epoch)?.drop(frame)
  }

  /** A stale frame dropped at a stage boundary (counted, and recorded against the turn it answered). */
  stale(frame: Frame, epoch: number): void {
    this.staleDropped++
    this.dropped(frame, epoch)
  }

  /** `stage` is still busy with the turn that was just interrupted; the report waits for it. */
  lag(stage: object): void {
    this.sync()
    this.lagging.add(stage)
  }

  /** `stage` moved on (read a frame after the interruption, or finished). */
  caughtUp(stage: object): void {
    if (this.lagging.delete(stage) && this.lagging.size === 0 && this.travelling === 0) this.schedule()
  }

  /**
   * A `startInterruption` frame was sent through the pipeline: reports wait until it has reached the end (every queue
   * on its way has dropped what it had to), at the latest until the task ends.
   */
  sent(): void {
    this.travelling++
  }

  /** A `startInterruption` frame reached the end of the pipeline (`all`: the pipeline drained, none will come). */
  arrived(all = false): void {
    if (this.travelling === 0) return
    this.travelling = all ? 0 : this.travelling - 1
    if (this.travelling === 0) this.schedule()
  }

  /** The user stopped speaking: the next answer is a new turn (unless an interruption is still being reported). */
  newTurn(): void {
    this.sync()
    if (this.turn.deliveredCount === 0 && this.turn.droppedCount === 0 && this.turn.pending.size === 0) return
    this.turn = new Turn(this.runtime.interruptEpoch)
  }

  /** Closes the current turn if an interruption happened since; schedules its report. */
  sync(): void {
    if (this.turn.epoch === this.runtime.interruptEpoch || this.finished) return
    this.closing.push(this.turn)
    this.turn = new Turn(this.runtime.interruptEpoch)
    this.schedule()
  }

  /** Sends every pending report now (the run is over). */
  finish(): void {
    if (this.finished) return
    this.sync()
    this.finished = true
    this.lagging.clear()
    this.travelling = 0
    this.flush()
  }

  private turnOf(epoch: number | undefined): Turn | undefined {
    if (epoch === undefined) return this.closing[this.closing.length - 1] ?? this.turn
    if (epoch === this.turn.epoch) return this.turn
    for (const t of this.closing) if (t.epoch === epoch) return t
    // The turn was already reported (a processor kept producing for it after its report went out): the frame belongs
    // to no later turn, so no report lists it; `staleDropped` still counts it.
    return epoch > this.turn.epoch ? this.turn : undefined
  }

  private schedule(): void {
    if (this.scheduled || this.finished || this.closing.length === 0) return
    this.scheduled = true
    // On a later turn: the stages register as lagging in their own interruption listeners, and frames already on
    // their way (handed over just before the interruption) meet the stale check first.
    later(() => {
      this.scheduled = false
      if (this.lagging.size === 0 && this.travelling === 0) this.flush()
    })
  }

  private flush(): void {
    const turns = this.closing.splice(0)
    for (const t of turns) this.onReport?.(t.report())
  }
}

const ledgers = new WeakMap<Runtime, DeliveryLedger>()

/**
 * The delivery ledger of the run `runtime` belongs to (created on first use).
 * @example
 * ```ts
 * import { ledgerOf, type ProcessorFn } from 'apipeline-ts'
 *
 * const speaker: ProcessorFn = async function* (source, ctx) {
 *   for await (const f of source) {
 *     if (f.type === 'audioRaw') {
 *       await device.play(f.audio, { signal: ctx.signal })
 *       ledgerOf(ctx.runtime).delivered(f) // the user heard it
 *     }
 *     yield f
 *   }
 * }
 * ```
 */
export function ledgerOf(runtime: Runtime): DeliveryLedger {
  let ledger = ledgers.get(runtime)
  if (ledger === undefined) {
    ledger = new DeliveryLedger(runtime)
    ledgers.set(runtime, ledger)
  }
  return ledger
}

/** The run's ledger if one exists (nothing was ever recorded otherwise). */
export function existingLedger(runtime: Runtime): DeliveryLedger | undefined {
  return ledgers.get(runtime)
}
