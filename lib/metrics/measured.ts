/**
 * `measured(processor)`: reports any processor's time to first output (TTFB) and processing time as `metrics`
 * frames, without changing the processor.
 *
 * With `enableMetrics` in the run's `start` frame:
 *
 * - when a **trigger** frame (default: any data frame) is handed to the processor, a TTFB and a processing-time
 *   measurement start (`ctx.metrics.startTtfb()` / `startProcessing()`, so `reportOnlyInitialTtfb` applies);
 * - the processor's first **output** after it (default: any frame that is not a system frame and not the trigger frame
 *   itself) ends the TTFB measurement: the `metrics` frame is emitted just before that output;
 * - the processor asking for its next input ends the processing measurement (it is done with the frame): the
 *   `metrics` frame is emitted at once;
 * - `startInterruption` / `interruption` reaching the processor ends both measurements (`stopAll()`, as the seed's
 *   processors do) and the frames are emitted.
 *
 * Every frame of the processor passes unchanged and in order; metrics frames are system frames added to its output.
 * The wrapper declares itself as measuring (`metrics: true`), so the task's initial metrics frame lists it with zeros.
 * Without `enableMetrics` it only forwards.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { assertProcessor, processorName, withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import type { Frame, MetricsFrame } from '../frames/types.js'
import { closeQuietly } from '../internal/close.js'
import { Wake, WAKE } from '../internal/wake.js'
import { yielded } from '../internal/yielded.js'

/** Options of {@link measured}. */
export interface MeasuredOptions {
  /** Input frames that start a measurement. Default: data frames. */
  readonly trigger?: (frame: Frame) => boolean
  /** Output frames that end the TTFB measurement of `trigger`. Default: any non-system frame other than `trigger`. */
  readonly isOutput?: (frame: Frame, trigger: Frame) => boolean
  /** Measure time to first output. Default true. */
  readonly ttfb?: boolean
  /** Measure processing time. Default true. */
  readonly processing?: boolean
  /** Display name (used in the metrics frames, under the pipeline's name). Default: the processor's name. */
  readonly name?: string
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
const noop = (): void => {}

const isDataFrame = (frame: Frame): boolean => frame.kind === 'data'
const defaultIsOutput = (frame: Frame, trigger: Frame): boolean => frame.kind !== 'system' && frame !== trigger

interface Settings {
  readonly trigger: (frame: Frame) => boolean
  readonly isOutput: (frame: Frame, trigger: Frame) => boolean
  readonly ttfb: boolean
  readonly processing: boolean
}

/** The processor's view of its source: sees every pull and every frame handed over. */
class TappedSource implements AsyncIterableIterator<Frame> {
  private readonly up: AsyncIterator<Frame>
  private readonly onResult = (r: IteratorResult<Frame>): IteratorResult<Frame> => {
    if (r.done !== true) this.owner.handed(r.value)
    return r
  }

  constructor(
    source: AsyncIterable<Frame>,
    private readonly owner: MeasuredIterator,
  ) {
    this.up = source[Symbol.asyncIterator]()
  }

  next(): Promise<IteratorResult<Frame>> {
    this.owner.pulled()
    return this.up.next().then(this.onResult)
  }

  return(): Promise<IteratorResult<Frame>> {
    const up = this.up
    if (typeof up.return !== 'function') return Promise.resolve(DONE)
    return Promise.resolve(up.return()).then(
      () => DONE,
      () => DONE,
    )
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

/** The wrapper's output: the processor's frames with metrics frames added. */
class MeasuredIterator implements AsyncIterableIterator<Frame> {
  private readonly inner: AsyncIterator<Frame>
  private readonly outbox: Frame[] = []
  private pending: Promise<IteratorResult<Frame>> | undefined
  private failure: { error: unknown } | undefined
  private current: Frame | undefined
  private processing = false
  private finished = false
  private readonly wake = new Wake()

  constructor(
    source: AsyncIterable<Frame>,
    private readonly ctx: ProcessorContext,
    processor: ProcessorFn<any, any>,
    private readonly settings: Settings,
  ) {
    const out = processor(new TappedSource(source, this), ctx)
    if (out === null || typeof out !== 'object' || typeof out[Symbol.asyncIterator] !== 'function') {
      throw new TypeError(`processor ${ctx.name} did not return an AsyncIterable`)
    }
    this.inner = out[Symbol.asyncIterator]()
  }

  /** The processor asks for its next input: it is done with the previous one. */
  pulled(): void {
    if (!this.processing) return
    this.processing = false
    this.emit(this.ctx.metrics.stopProcessing())
  }

  /** A frame is handed to the processor. */
  handed(frame: Frame): void {
    if (frame.kind === 'system') {
      if (frame.type === 'startInterruption' || frame.type === 'interruption') {
        this.current = undefined
        this.processing = false
        for (const m of this.ctx.metrics.stopAll()) this.emit(m)
      }
      return
    }
    const metrics = this.ctx.metrics
    if (!metrics.enabled || !this.settings.trigger(frame)) return
    if (this.settings.ttfb) {
      metrics.startTtfb()
      this.current = frame
    }
    if (this.settings.processing) {
      metrics.startProcessing()
      this.processing = true
    }
  }

  async next(): Promise<IteratorResult<Frame>> {
    for (;;) {
      const queued = this.outbox.shift()
      if (queued !== undefined) return yielded(queued)
      if (this.failure !== undefined) {
        const { error } = this.failure
        this.failure = undefined
        throw error
      }
      if (this.finished) return DONE
      if (this.pending === undefined) {
        const p = this.inner.next()
        p.catch(noop)
        this.pending = p
        // Pulling may already have produced metrics (the processor asked for its next input).
        if (this.outbox.length > 0) continue
      }
      let got: IteratorResult<Frame> | typeof WAKE
      try {
        got = await Promise.race([this.pending, this.wake.wait()])
      } catch (err) {
        this.pending = undefined
        this.failure = { error: err }
        continue
      }
      if (typeof got === 'symbol') continue
      this.pending = undefined
      if (got.done === true) {
        this.finished = true
        continue
      }
      const frame = got.value
      const trigger = this.current
      if (trigger !== undefined && this.settings.isOutput(frame, trigger)) {
        this.current = undefined
        const m = this.ctx.metrics.stopTtfb()
        if (m !== undefined) {
          this.outbox.push(frame)
          return yielded(m)
        }
      }
      return got
    }
  }

  return(): Promise<IteratorResult<Frame>> {
    this.finished = true
    this.outbox.length = 0
    this.wake.notify()
    void closeQuietly(this.inner)
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private emit(frame: MetricsFrame | undefined): void {
    if (frame === undefined || this.finished) return
    this.outbox.push(frame)
    this.wake.notify()
  }

}

/**
 * Wraps `processor` so that, with `enableMetrics`, its time to first output and its processing time per input frame
 * are reported as `metrics` frames (see the module documentation). The wrapper is listed in the task's initial
 * metrics frame.
 *
 * @example
 * ```ts
 * import { measured, pipeline, PipelineTask } from 'apipeline-ts'
 *
 * const task = new PipelineTask(pipeline(stt, measured(llm), tts), { enableMetrics: true })
 * // output: start, metrics (llm: ttfb 0, processing 0), …, metrics (llm ttfb 0.21 s), first token, …
 * ```
 */
export function measured<I extends Frame, O extends Frame>(processor: ProcessorFn<I, O>, options: MeasuredOptions = {}): Processor<I, O | MetricsFrame> {
  assertProcessor('measured(processor)', processor)
  if (options === null || typeof options !== 'object') throw new TypeError('measured(options) must be an object')
  for (const key of ['trigger', 'isOutput'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new TypeError(`measured(options): ${key} must be a function`)
  }
  for (const key of ['ttfb', 'processing'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw new TypeError(`measured(options): ${key} must be a boolean`)
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length === 0)) {
    throw new TypeError('measured(options): name must be a non-empty string')
  }
  const name = options.name ?? processorName(processor, 'measured')
  const settings: Settings = {
    trigger: options.trigger ?? isDataFrame,
    isOutput: options.isOutput ?? defaultIsOutput,
    ttfb: options.ttfb ?? true,
    processing: options.processing ?? true,
  }
  const wrapper: ProcessorFn<I, O | MetricsFrame> = (source, ctx) =>
    new MeasuredIterator(source as AsyncIterable<Frame>, asContext(ctx, name), processor, settings) as AsyncIterable<O | MetricsFrame>
  return withInfo(wrapper, { name, metrics: true })
}
