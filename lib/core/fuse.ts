/**
 * Stage fusion: consecutive per-frame steps (`map`, `filter`, `tap`, `flatMap`) run in one async hop.
 * Each step keeps its own context, so an exception is reported as an `error` frame naming that step, from
 * that step's place in the pipeline, and only the frame that failed is lost.
 *
 * The fused stage is a hand-written iterator rather than an async generator: it costs one promise per output frame
 * instead of a generator resumption, and when its source can hand over frames without waiting (the task's input
 * channel, or another fused stage) a consumer that pulls synchronously (`tryNext`) takes every available frame in the
 * same hop. Nothing is read ahead: a frame is taken from the source only when the consumer asks for the next output,
 * so queues upstream keep their frames (an interruption or cancel still finds them there) and a live stream gets no
 * added latency.
 * @module
 */
import { isFatal } from '../errors.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { asContext, type Context, type ProcessorContext } from './context.js'
import { processorInfo, processorName, withInfo, type FrameStep, type ProcessorFn } from './processor.js'
import type { Runtime } from './runtime.js'
import { errorMessage, type SyncPull, type ValuePull } from './stage.js'
import { describeValue, isFrameShaped } from '../internal/frame-shape.js'
import { yielded } from '../internal/yielded.js'

/** One step of a fused stage with the context of the stage it came from. */
export interface FusedStep {
  readonly step: FrameStep
  readonly ctx: Context
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

function reportStepError(ctx: Context, err: unknown): void {
  ctx.pushUpstream(errorFrame(errorMessage(err), { fatal: isFatal(err), processor: ctx.name, cause: err }))
}

/** Where a fused stage collects the outputs of one input frame: `items[head..count)` are pending. */
interface Outbox {
  items: Frame[]
  head: number
  count: number
}

function reportNonFrame(ctx: Context, value: unknown): void {
  const message = `${ctx.name} emitted ${describeValue(value)}, which is not a frame; it was dropped`
  ctx.pushUpstream(errorFrame(message, { processor: ctx.name, cause: new TypeError(message) }))
}

/** The functions of steps built by {@link mapStep}, so that fusion can run consecutive maps in one loop. */
const mapFunctions = new WeakMap<FrameStep, (frame: Frame, ctx: ProcessorContext) => Frame>()

/**
 * The step of `map(fn)`: `emit(fn(frame, ctx))`. Fusion recognises it and runs a run of consecutive maps as one
 * loop of plain calls instead of nested step and emit closures (same outputs, same errors, same names).
 */
export function mapStep(fn: (frame: Frame, ctx: ProcessorContext) => Frame): FrameStep {
  const step: FrameStep = (frame, emit, ctx) => emit(fn(frame, ctx))
  mapFunctions.set(step, fn)
  return step
}

/**
 * Runs `frame` through the map steps `fns` of an observed run (their contexts `ctxs`): each output is checked before the next step sees
 * it (a pass-through needs no check), and kept in `outs` when given. Returns the last output, or `undefined` when a
 * step threw or returned a non-frame: then `failed(j)` is called with the number of steps that completed, and the
 * failure is reported naming step `j`.
 */
function applyMaps(
  fns: readonly ((frame: Frame, ctx: ProcessorContext) => Frame)[],
  ctxs: readonly Context[],
  frame: Frame,
  outs: Frame[] | undefined,
  failed: (steps: number) => void,
): Frame | undefined {
  let f: Frame = frame
  for (let j = 0; j < fns.length; j++) {
    const ctx = ctxs[j] as Context
    let out: Frame
    try {
      out = (fns[j] as (frame: Frame, ctx: ProcessorContext) => Frame)(f, ctx)
    } catch (err) {
      failed(j)
      reportStepError(ctx, err)
      return undefined
    }
    if (out !== f) {
      if (!isFrameShaped(out)) {
        failed(j)
        reportNonFrame(ctx, out)
        return undefined
      }
      f = out
    }
    if (outs !== undefined) outs[j] = f
  }
  return f
}

/**
 * The emit function of a run of `map` steps: each function in turn, each output checked before the next step sees
 * it; an exception or a value that is not a frame is reported naming that step, and the frame goes no further.
 */
function mapRun(fns: readonly ((frame: Frame, ctx: ProcessorContext) => Frame)[], ctxs: readonly Context[], downstream: (frame: Frame) => void, observed: boolean): (frame: Frame) => void {
  const n = fns.length
  if (!observed) {
    // The unobserved loop is the hot path of every fused pipeline: kept inline (one call per step, no callbacks),
    // which measured faster than sharing applyMaps.
    return (frame) => {
      let f: Frame = frame
      for (let j = 0; j < n; j++) {
        const ctx = ctxs[j] as Context
        let out: Frame
        try {
          out = (fns[j] as (frame: Frame, ctx: ProcessorContext) => Frame)(f, ctx)
        } catch (err) {
          reportStepError(ctx, err)
          return
        }
        // The frame it was given (a pass-through) is a frame: only a new value needs the check.
        if (out !== f) {
          if (!isFrameShaped(out)) {
            reportNonFrame(ctx, out)
            return
          }
          f = out
        }
      }
      downstream(f)
    }
  }
  // Observed: the steps' outputs are collected and handed to the observers in one call, before anything goes on.
  const names = ctxs.map((c) => c.name)
  const runtime = (ctxs[0] as Context).runtime
  // The slots are overwritten by the next frame, not cleared: at most one frame per step stays referenced meanwhile.
  const outs = new Array<Frame>(n)
  const report = (count: number): void => {
    runtime.tap?.steps(outs, names, count)
  }
  const dropped = (count: number): void => {
    runtime.tap?.stepsDropped(count)
  }
  return (frame) => {
    // While every observer is full the outputs would only be counted, so they are not collected.
    const full = runtime.tap?.full() === true
    const f = full ? applyMaps(fns, ctxs, frame, undefined, dropped) : applyMaps(fns, ctxs, frame, outs, report)
    if (f === undefined) return
    if (full) dropped(n)
    else report(n)
    downstream(f)
  }
}

/**
 * Builds the function that runs one frame through every step, collecting what the last step emits in `box`. What a
 * step emits is checked before it goes on: a value that is not a frame is dropped and reported naming that step.
 * With `observed`, every step's output is also handed to the run's observers (`runtime.tap`) under the step's name.
 */
function chain(steps: readonly FusedStep[], box: Outbox, observed = false): (frame: Frame) => void {
  let emit: (frame: Frame) => void = (frame) => {
    box.items[box.count++] = frame
  }
  for (let k = steps.length - 1; k >= 0; k--) {
    const { step, ctx } = steps[k] as FusedStep
    const downstream = emit
    if (mapFunctions.has(step)) {
      // The run of maps ending here, as one loop.
      let first = k
      while (first > 0 && mapFunctions.has((steps[first - 1] as FusedStep).step)) first--
      const run = steps.slice(first, k + 1)
      emit = mapRun(
        run.map((s) => mapFunctions.get(s.step) as (frame: Frame, ctx: ProcessorContext) => Frame),
        run.map((s) => s.ctx),
        downstream,
        observed,
      )
      k = first
      continue
    }
    const next: (frame: Frame) => void = observed
      ? (frame) => {
          if (!isFrameShaped(frame)) return reportNonFrame(ctx, frame)
          ctx.runtime.tap?.frame(frame, ctx.name, 'down')
          downstream(frame)
        }
      : (frame) => {
          if (isFrameShaped(frame)) downstream(frame)
          else reportNonFrame(ctx, frame)
        }
    emit = (frame) => {
      try {
        step(frame, next, ctx)
      } catch (err) {
        reportStepError(ctx, err)
      }
    }
  }
  return emit
}

/**
 * The running fused stage. Behaves like the async generator
 * `for await (const frame of source) { run steps; yield each output }`: the source is opened on the first pull, a
 * failing source ends the iterator with its error, `return()` closes the source if it was opened.
 */
class FusedIterator implements AsyncIterableIterator<Frame>, SyncPull<Frame> {
  private src: AsyncIterator<Frame> | undefined
  private readonly box: Outbox = { items: [], head: 0, count: 0 }
  private done = false
  private failure: { readonly error: unknown } | undefined
  /** The request waiting for the source; later requests queue behind it (as they would on a generator). */
  private pending: Promise<IteratorResult<Frame>> | undefined
  private readonly plain: (frame: Frame) => void
  private readonly observed: (frame: Frame) => void
  private readonly runtime: Runtime | undefined
  /** Tells the stage running this iterator that it reports its outputs to observers itself (per step). */
  readonly observesItself = true
  private readonly again = (): Promise<IteratorResult<Frame>> => this.next()
  private readonly onSource = (r: IteratorResult<Frame>): IteratorResult<Frame> | Promise<IteratorResult<Frame>> => {
    this.pending = undefined
    if (this.done) return DONE
    if (r.done === true) {
      this.done = true
      return DONE
    }
    try {
      this.first(r.value)
    } catch (err) {
      this.done = true
      throw err
    }
    if (this.box.head < this.box.count) return this.take()
    return this.next()
  }
  private readonly onSourceError = (err: unknown): never => {
    this.pending = undefined
    this.done = true
    throw err
  }

  constructor(
    steps: readonly FusedStep[],
    private readonly source: AsyncIterable<Frame>,
  ) {
    this.plain = chain(steps, this.box)
    this.observed = chain(steps, this.box, true)
    this.runtime = steps[0]?.ctx.runtime
  }

  /** Runs one source frame through the steps. */
  private first(frame: Frame): void {
    if (this.runtime?.tap === undefined) this.plain(frame)
    else this.observed(frame)
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.pending !== undefined) return this.pending.then(this.again, this.again)
    const r = this.tryNext()
    if (r !== undefined) return Promise.resolve(r)
    const failure = this.failure
    if (failure !== undefined) {
      this.failure = undefined
      this.done = true
      return Promise.reject(failure.error)
    }
    const request = (this.src as AsyncIterator<Frame>).next().then(this.onSource, this.onSourceError)
    this.pending = request
    return request
  }

  /** The next output if it is available without waiting, else `undefined`. Never throws. */
  tryNext(): IteratorResult<Frame> | undefined {
    if (this.pending !== undefined) return undefined
    if (this.box.head < this.box.count) return this.take()
    if (this.done) return DONE
    if (this.failure !== undefined) return undefined
    try {
      const src = (this.src ??= this.source[Symbol.asyncIterator]())
      const pull = (src as Partial<SyncPull<Frame>>).tryNext
      if (pull === undefined) return undefined
      // A source that hands over values without a result object (the task's input) is read that way first.
      const value = (src as Partial<ValuePull<Frame>>).tryValue
      for (;;) {
        let frame = value === undefined ? undefined : value.call(src)
        if (frame === undefined) {
          const r = pull.call(src)
          if (r === undefined) return undefined
          if (r.done === true) {
            this.done = true
            return DONE
          }
          frame = r.value
        }
        this.first(frame)
        if (this.box.head < this.box.count) return this.take()
      }
    } catch (err) {
      this.failure = { error: err }
      return undefined
    }
  }

  return(): Promise<IteratorResult<Frame>> {
    if (this.done) return Promise.resolve(DONE)
    this.done = true
    this.box.items.length = 0
    this.box.head = 0
    this.box.count = 0
    const src = this.src
    if (src === undefined || typeof src.return !== 'function') return Promise.resolve(DONE)
    return Promise.resolve()
      .then(() => src.return?.())
      .then(() => DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private take(): IteratorResult<Frame> {
    const box = this.box
    const items = box.items
    const value = items[box.head] as Frame
    items[box.head] = undefined as unknown as Frame
    if (++box.head === box.count) {
      box.head = 0
      box.count = 0
    }
    return yielded(value)
  }
}

/** A processor running `steps` in order over every frame, in one async hop per output frame (fewer when batched). */
export function fuseSteps(steps: readonly FusedStep[]): ProcessorFn {
  const list = [...steps]
  return function fused(source) {
    return new FusedIterator(list, source)
  }
}

/**
 * Turns off fusion for one per-frame operator: returns a processor with the same name that runs the operator's step
 * in a plain `async function*` of its own, which a pipeline does not fuse with its neighbours. Outputs, error frames and
 * upstream frames are the same as with fusion; only the scheduling differs (one async hop per stage per frame). Useful
 * to compare fused and unfused pipelines, or to measure what fusion buys. A processor that is not a per-frame operator
 * is returned unchanged.
 *
 * @example
 * ```ts
 * const upper = (f: Frame) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f)
 * const nonEmpty = (f: Frame) => f.type !== 'text' || f.text !== ''
 * const fused = pipeline(map(upper), filter(nonEmpty))
 * const separate = pipeline(unfused(map(upper)), unfused(filter(nonEmpty)))
 * ```
 */
export function unfused<I extends Frame, O extends Frame>(processor: ProcessorFn<I, O>): ProcessorFn<I, O> {
  if (typeof processor !== 'function') throw new TypeError('unfused(processor): processor must be a function')
  const step = processorInfo(processor)?.step
  if (step === undefined) return processor
  const name = processorName(processor, 'step')
  const separate = async function* (source: AsyncIterable<I>, ctx: ProcessorContext): AsyncGenerator<O> {
    const c = asContext(ctx, name)
    const out: Frame[] = []
    const emit = (frame: Frame): void => {
      out.push(frame)
    }
    for await (const frame of source) {
      try {
        step(frame, emit, c)
      } catch (err) {
        reportStepError(c, err)
      }
      const batch = out.splice(0, out.length)
      for (const f of batch) yield f as O
    }
  }
  return withInfo(separate, { name })
}
