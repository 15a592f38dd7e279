/**
 * The state one run shares between all its processors: cancel and interruption signals, the start frame,
 * the processors that measure metrics. Created by the task; reached by combinators through `ctx`.
 * @module
 */
import { CancelledError, InterruptedError } from '../errors.js'
import { startInterruption } from '../frames/constructors.js'
import type { Frame, StartFrame, StartInterruptionFrame } from '../frames/types.js'
import type { FrameTap } from '../observe/tap.js'
import type { SlowInterruptionWatch } from './slow-interruption.js'

/** Settings of a runtime. */
export interface RuntimeOptions {
  /** How long teardown waits for processors that ignore the signal, in ms. */
  readonly cancelTimeoutMs: number
  /** The warning for a stage that holds an interruption (none: no warning). */
  readonly slowInterruption?: SlowInterruptionWatch
}

/** The state of one run, shared by every context of that run. */
export class Runtime {
  readonly cancelTimeoutMs: number
  private readonly cancelController = new AbortController()
  /** `cancelSignal.aborted`, as a plain field: read for every frame in several loops (the signal's getter is not free). */
  private isCancelled = false
  private interruptController = new AbortController()
  private readonly interruptListeners = new Set<() => void>()
  private readonly cancelListeners = new Set<() => void>()
  private readonly metricsNames: string[] = []
  /** Counts interruptions; a stage compares it to know whether an abort came from one. */
  interruptEpoch = 0
  /**
   * The epochs processors stated for frames they are about to hand over (see `stampEpoch`), read once by the stage
   * boundary the frame crosses first. Undefined until a processor of the run states one: a run without costs nothing.
   */
  epochStamps: WeakMap<object, number> | undefined = undefined
  /** The signal the last interruption aborted (what a processor caught mid-output keeps seeing). */
  interruptedSignal: AbortSignal | undefined
  /**
   * The `startInterruption` frame of the last interruption: the task sends it ahead of its queued input, and a queue
   * that drops frames once its input has ended (nothing more can come from upstream) sends this same object ahead of
   * what it keeps, so that it reaches the end once (copies are recognised by id).
   */
  interruption: StartInterruptionFrame | undefined
  /** The `start` frame, once it entered the pipeline. */
  start: StartFrame | undefined
  /** Where frames leaving the top of the pipeline go (the task). */
  upstreamSink: (frame: Frame) => void = () => {}
  /** Set while observers are attached: stages hand it every frame they emit. Undefined costs nothing more. */
  tap: FrameTap | undefined = undefined

  /** The warning for a stage that holds an interruption, if the run gives one. */
  readonly slowInterruption: SlowInterruptionWatch | undefined

  constructor(options: RuntimeOptions) {
    this.cancelTimeoutMs = options.cancelTimeoutMs
    this.slowInterruption = options.slowInterruption
  }

  /** Aborts on cancel and on each interruption; replaced by a fresh signal after an interruption. */
  get signal(): AbortSignal {
    return this.interruptController.signal
  }

  /** Aborts only when the run is cancelled or stopped. */
  get cancelSignal(): AbortSignal {
    return this.cancelController.signal
  }

  get cancelled(): boolean {
    return this.isCancelled
  }

  /** Aborts both signals, then calls the cancel listeners. Idempotent. */
  cancel(reason: unknown = new CancelledError()): void {
    if (this.cancelled) return
    this.isCancelled = true
    this.cancelController.abort(reason)
    this.interruptController.abort(reason)
    this.interruptListeners.clear()
    const listeners = [...this.cancelListeners]
    this.cancelListeners.clear()
    for (const listener of listeners) listener()
  }

  /**
   * Calls `listener` once when the run is cancelled (at once if it already is); returns the unsubscribe function.
   * The library's own stages listen here rather than on `cancelSignal`, so a run with many stages adds one listener
   * per stage to a set, not to the signal (no `MaxListenersExceededWarning`, however many stages).
   */
  onCancel(listener: () => void): () => void {
    if (this.cancelled) {
      listener()
      return () => {}
    }
    this.cancelListeners.add(listener)
    return () => this.cancelListeners.delete(listener)
  }

  /**
   * Aborts the current `signal` with an {@link InterruptedError}, installs a fresh one, then calls the interruption
   * listeners (buffered stages drop their queued data frames there). No-op once cancelled.
   */
  interrupt(): void {
    if (this.cancelled) return
    const previous = this.interruptController
    this.interruptController = new AbortController()
    this.interruptEpoch++
    previous.abort(new InterruptedError())
    this.interruptedSignal = previous.signal
    this.interruption = startInterruption()
    for (const listener of [...this.interruptListeners]) listener()
  }

  /** Calls `listener` on every interruption; returns the unsubscribe function. */
  onInterrupt(listener: () => void): () => void {
    this.interruptListeners.add(listener)
    return () => this.interruptListeners.delete(listener)
  }

  /** Records a processor that measures metrics (listed with zeros in the initial metrics frame). */
  registerMetrics(name: string): void {
    if (!this.metricsNames.includes(name)) this.metricsNames.push(name)
  }

  /** The processors that registered for metrics, in registration order. */
  get metricsProcessors(): readonly string[] {
    return this.metricsNames
  }
}
