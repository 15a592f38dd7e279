/**
 * `ProcessorContext`: what a processor gets besides its source — the run's signals, the start parameters,
 * the upstream direction and a metrics helper.
 * @module
 */
import { error as errorFrame, metrics as metricsFrame } from '../frames/constructors.js'
import { describeValue, isFrameShaped } from '../internal/frame-shape.js'
import type { ErrorFrame, Frame, MetricsFrame, StartFrame } from '../frames/types.js'
import { Runtime } from './runtime.js'

/**
 * Observes a frame travelling upstream past a stage. Call `next(frame)` to pass it (or another frame) on
 * towards the source; not calling it swallows the frame. Handlers run synchronously, in reverse stage order.
 */
export type UpstreamHandler = (frame: Frame, next: (frame: Frame) => void) => void

/**
 * Time measurements of one processor, reported as `metrics` frames when the run's `start` frame has
 * `enableMetrics`. The `stop*` methods return the frame to emit (yield it downstream), or `undefined` when
 * metrics are off or the measurement was not started. Values are seconds, measured on a monotonic clock.
 *
 * Semantics (those of the seed): a `start*` while the same measurement runs restarts it; a `stop*` ends it (a second
 * `stop*` returns `undefined`). With `reportOnlyInitialTtfb`, only the first TTFB measurement of the run is ever
 * started — later `startTtfb()` calls are ignored, also while the first one still runs. On `startInterruption` a
 * processor should call `stopAll()` and emit the result, as the seed's processors do (the `measured()` wrapper does).
 * A processor that measures should declare it (`withInfo(p, { metrics: true })`, or wrap it with `measured()`) so
 * that the task's initial metrics frame lists it with zeros.
 *
 * @example
 * ```ts
 * const llm: ProcessorFn = async function* (source, ctx) {
 *   for await (const f of source) {
 *     if (f.type !== 'text') { yield f; continue }
 *     ctx.metrics.startTtfb()
 *     for await (const token of model(f.text, ctx.signal)) {
 *       const m = ctx.metrics.stopTtfb()
 *       if (m) yield m
 *       yield Frames.text(token)
 *     }
 *   }
 * }
 * ```
 */
export interface ProcessorMetrics {
  /** True when the run's start frame enabled metrics. */
  readonly enabled: boolean
  /** Starts a time-to-first-byte measurement (only the first one of the run when `reportOnlyInitialTtfb`). */
  startTtfb(): void
  /** Ends the TTFB measurement; returns the `metrics` frame to emit. */
  stopTtfb(): MetricsFrame | undefined
  /** Starts a processing-time measurement. */
  startProcessing(): void
  /** Ends the processing-time measurement; returns the `metrics` frame to emit. */
  stopProcessing(): MetricsFrame | undefined
  /** Ends both measurements (e.g. on an interruption); returns the frames to emit. */
  stopAll(): MetricsFrame[]
}

/** What every processor receives as its second argument. */
export interface ProcessorContext {
  /** The processor's name within the pipeline, e.g. `pipeline/upper`. */
  readonly name: string
  /** Aborts on cancel and on each interruption; read it again after an interruption for the fresh one. */
  readonly signal: AbortSignal
  /** Aborts only on cancel or stop. */
  readonly cancelSignal: AbortSignal
  /** The run's `start` frame once it has entered the pipeline (its parameters). */
  readonly start: StartFrame | undefined
  /** Sends `frame` towards the source: earlier stages that observe upstream frames see it, then the task. */
  pushUpstream(frame: Frame): void
  /** Observes frames that travel upstream past this processor; returns the function that removes the handler. */
  onUpstream(handler: UpstreamHandler): () => void
  /** Time measurements reported as `metrics` frames. */
  readonly metrics: ProcessorMetrics
  /** The run shared by every context (used by combinators). */
  readonly runtime: Runtime
}

const now = (): number => performance.now()

class Metrics implements ProcessorMetrics {
  private ttfbStart: number | undefined
  private processingStart: number | undefined
  private ttfbStarted = false
  private registered = false

  constructor(
    private readonly runtime: Runtime,
    private readonly name: string,
  ) {}

  get enabled(): boolean {
    return this.runtime.start?.enableMetrics === true
  }

  private register(): void {
    if (!this.registered) {
      this.registered = true
      this.runtime.registerMetrics(this.name)
    }
  }

  startTtfb(): void {
    if (!this.enabled) return
    this.register()
    if (this.runtime.start?.reportOnlyInitialTtfb === true && this.ttfbStarted) return
    this.ttfbStarted = true
    this.ttfbStart = now()
  }

  stopTtfb(): MetricsFrame | undefined {
    if (this.ttfbStart === undefined) return undefined
    const value = (now() - this.ttfbStart) / 1000
    this.ttfbStart = undefined
    return metricsFrame({ ttfb: [{ processor: this.name, value }] })
  }

  startProcessing(): void {
    if (!this.enabled) return
    this.register()
    this.processingStart = now()
  }

  stopProcessing(): MetricsFrame | undefined {
    if (this.processingStart === undefined) return undefined
    const value = (now() - this.processingStart) / 1000
    this.processingStart = undefined
    return metricsFrame({ processing: [{ processor: this.name, value }] })
  }

  stopAll(): MetricsFrame[] {
    const out: MetricsFrame[] = []
    const t = this.stopTtfb()
    if (t !== undefined) out.push(t)
    const p = this.stopProcessing()
    if (p !== undefined) out.push(p)
    return out
  }
}

/** The context implementation: one per processor instance. */
export class Context implements ProcessorContext {
  readonly runtime: Runtime
  readonly name: string
  private readonly up: (frame: Frame) => void
  private handlers: UpstreamHandler[] = []
  private metricsHelper: Metrics | undefined

  constructor(runtime: Runtime, name: string, pushUpstream: (frame: Frame) => void) {
    this.runtime = runtime
    this.name = name
    this.up = pushUpstream
  }

  get signal(): AbortSignal {
    return this.pinnedSignal ?? this.runtime.signal
  }

  /**
   * Set by the processor's stage when an interruption catches the processor between producing an output and being
   * asked for the next: the work it resumes belongs to before the interruption, so `signal` stays the aborted one
   * until the processor reads its source again (or restarts). `undefined`: follow the run's current signal.
   */
  pinnedSignal: AbortSignal | undefined

  /** Set on the root context of a detached run (see {@link detachedContext}); `undefined` inside a task. */
  detached: DetachedRun | undefined

  get cancelSignal(): AbortSignal {
    return this.runtime.cancelSignal
  }

  get start(): StartFrame | undefined {
    return this.runtime.start
  }

  get metrics(): ProcessorMetrics {
    this.metricsHelper ??= new Metrics(this.runtime, this.name)
    return this.metricsHelper
  }

  pushUpstream(frame: Frame): void {
    if (isFrameShaped(frame)) {
      const tap = this.runtime.tap
      if (tap !== undefined) tap.frame(frame, this.name, 'up', true)
      this.up(frame)
    } else {
      // A value that is not a frame never travels on: it is reported as an error naming this processor instead.
      const message = `${this.name} pushed ${describeValue(frame)} upstream, which is not a frame; it was dropped`
      this.up(errorFrame(message, { processor: this.name, cause: new TypeError(message) }))
    }
  }

  onUpstream(handler: UpstreamHandler): () => void {
    this.handlers = [...this.handlers, handler]
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handler)
    }
  }

  /** Passes `frame` through this processor's upstream handlers, then calls `next` with what they let through. */
  deliverUpstream(frame: Frame, next: (frame: Frame) => void): void {
    const handlers = this.handlers
    if (handlers.length === 0) {
      next(frame)
      return
    }
    const step = (i: number, f: Frame): void => {
      const h = handlers[i]
      if (h === undefined) next(f)
      else h(f, (g) => step(i + 1, g))
    }
    step(0, frame)
  }

  /** A context for a nested processor of the same run. */
  child(name: string, pushUpstream: (frame: Frame) => void): Context {
    return new Context(this.runtime, name, pushUpstream)
  }
}

/** Options of {@link detachedContext}. */
export interface DetachedContextOptions {
  /**
   * Called with every `error` frame that reaches the top (a processor threw, or pushed one upstream); the run goes on.
   * Without it (and without `onUpstream`), the first error rejects the iteration with a `PipelineError`.
   */
  readonly onError?: (error: ErrorFrame) => void
  /** Sees every frame pushed to the top; `error` frames too when there is no `onError`. Dropped otherwise. */
  readonly onUpstream?: (frame: Frame) => void
  /** Aborting it cancels the run: `ctx.signal` aborts and processors stop. */
  readonly signal?: AbortSignal
  /** How long teardown waits for processors that ignore the signal, in ms. Default 1000. */
  readonly cancelTimeoutMs?: number
}

/**
 * The state of a detached run: where its errors go when nobody handles them. The iteration of the processor that
 * was called with the detached context watches it and rejects as soon as an error is recorded.
 */
export class DetachedRun {
  /** The first unhandled error frame. */
  failure: ErrorFrame | undefined
  private listeners: ((error: ErrorFrame) => void)[] = []

  constructor(readonly runtime: Runtime) {}

  /** Records `error` (the first one wins), tells the watchers, and cancels the run. */
  fail(error: ErrorFrame): void {
    if (this.failure !== undefined) return
    this.failure = error
    const listeners = this.listeners
    this.listeners = []
    for (const listener of listeners) listener(error)
    this.runtime.cancel()
  }

  /** Calls `listener` once, when an unhandled error is recorded; returns the function that removes it. */
  onFailure(listener: (error: ErrorFrame) => void): () => void {
    this.listeners.push(listener)
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }
}

/**
 * A context for running a processor outside a task: a run of its own, never cancelled unless `signal` aborts. Every
 * processor the library returns creates one by itself when it is called without a context (as an it-pipe step, or by
 * Node's `stream.pipeline`, which passes `{ signal }`); create one yourself to handle what reaches the top.
 *
 * Errors never vanish: an `error` frame that reaches the top goes to `onError`, else to `onUpstream`, else it rejects
 * the iteration of the processor you called with a `PipelineError` (and cancels the run). Other upstream frames go to
 * `onUpstream`, or are dropped. There is no `start` frame unless your source has one, so `ctx.start` stays undefined.
 *
 * @example
 * ```ts
 * import { Frames, detachedContext, map, pipeline } from 'apipeline-ts'
 *
 * const fragile = pipeline(map((f) => { if (f.type === 'text' && f.text === '') throw new Error('empty'); return f }))
 * const ctx = detachedContext('bot', { onError: (e) => console.warn(e.processor, e.error) })
 * for await (const f of fragile([Frames.text(''), Frames.text('hi')], ctx)) console.log(Frames.format(f))
 * // warns "bot/map empty", then logs the second frame
 * ```
 */
export function detachedContext(name = 'detached', options: DetachedContextOptions = {}): Context {
  if (typeof name !== 'string') throw new TypeError('detachedContext(name) must be a string')
  if (options === null || typeof options !== 'object') throw new TypeError('detachedContext(options) must be an object')
  const runtime = new Runtime({ cancelTimeoutMs: options.cancelTimeoutMs ?? 1000 })
  const detached = new DetachedRun(runtime)
  const { onError, onUpstream } = options
  runtime.upstreamSink = (frame) => {
    if (frame.kind === 'system' && frame.type === 'error') {
      if (onError !== undefined) onError(frame)
      else if (onUpstream !== undefined) onUpstream(frame)
      else detached.fail(frame)
    } else onUpstream?.(frame)
  }
  if (options.signal !== undefined) {
    const signal = options.signal
    if (signal.aborted) runtime.cancel(signal.reason)
    else signal.addEventListener('abort', () => runtime.cancel(signal.reason), { once: true })
  }
  const ctx = new Context(runtime, name, (frame) => runtime.upstreamSink(frame))
  ctx.detached = detached
  return ctx
}

/** `ctx` as a {@link Context}, or a detached one when a processor was called without a context. */
export function asContext(ctx: ProcessorContext | undefined, name: string): Context {
  if (ctx instanceof Context) return ctx
  if (ctx === undefined) return detachedContext(name)
  // A foreign object implementing the interface: wrap it so nested processors can still create children.
  const foreign = ctx
  const wrapped = new Context(foreign.runtime, foreign.name, (f) => foreign.pushUpstream(f))
  foreign.onUpstream((f, next) => wrapped.deliverUpstream(f, next))
  return wrapped
}
