/**
 * Per-frame processors that see both directions: downstream frames through their source, upstream frames through
 * `ctx.onUpstream`. Shared by the filters, the frame logger, the text transformer and the sentence aggregator.
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Processor } from '../core/processor.js'
import { errorMessage } from '../core/stage.js'
import { isFatal } from '../errors.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { stepProcessor } from './step-processor.js'

/** The direction a frame travels: `'down'` towards the sink, `'up'` towards the source. */
export type Direction = 'down' | 'up'

/**
 * A synchronous handler for one frame of either direction: call `emit` zero or more times (synchronously) with the
 * frames to pass on in that same direction.
 */
export type TwoWayStep = (frame: Frame, emit: (frame: Frame) => void, direction: Direction, ctx: ProcessorContext) => void

/** Sends an `error` frame naming `ctx` upstream for `err` (fatal when `err` asks to be). @internal */
export function reportError(ctx: ProcessorContext, err: unknown): void {
  ctx.pushUpstream(errorFrame(errorMessage(err), { fatal: isFatal(err), processor: ctx.name, cause: err }))
}

/**
 * A fusable processor running `step` on the frames of both directions. Downstream it is an ordinary per-frame step
 * (fused with neighbouring `map`/`filter`/… stages). Upstream, the step is installed as the stage's upstream handler
 * when the first downstream frame (`start`) reaches it, so it sees every upstream frame pushed after the run started.
 * An exception in the step drops that frame and reports an `error` frame naming the stage.
 *
 * @example
 * ```ts
 * const dropEmpty = twoWayStep('dropEmpty', (frame, emit) => {
 *   if (frame.type !== 'text' || frame.text !== '') emit(frame)
 * })
 * ```
 */
export function twoWayStep<I extends Frame = Frame, O extends Frame = Frame>(name: string, step: TwoWayStep): Processor<I, O> {
  if (typeof step !== 'function') throw new TypeError(`${name}: step must be a function`)
  const installed = new WeakSet<ProcessorContext>()
  const install = (ctx: ProcessorContext): void => {
    installed.add(ctx)
    ctx.onUpstream((frame, next) => {
      try {
        step(frame, next, 'up', ctx)
      } catch (err) {
        reportError(ctx, err)
      }
    })
  }
  return stepProcessor<I, O>(name, (frame, emit, ctx) => {
    if (!installed.has(ctx)) install(ctx)
    step(frame, emit, 'down', ctx)
  })
}

/**
 * Installs an upstream handler for an asynchronous per-frame processor, for the lifetime of its generator. Frames for
 * which `passNow(frame)` is true go on at once (system frames may overtake); the others are handled by `handle` one at
 * a time, in arrival order, and the frames it returns are passed on in order. A rejection of `handle` drops that frame
 * and reports an `error` frame. Returns `off` (removes the handler) and `drained()` (settles once every upstream frame
 * received so far has been handled — await it before forwarding `end`, so `end` drains this stage's upstream work).
 *
 * @example
 * ```ts
 * const upper: ProcessorFn = async function* (source, ctx) {
 *   const up = orderedUpstream(ctx, (f) => f.kind === 'system', async (f) => [f])
 *   try {
 *     for await (const f of source) {
 *       if (f.type === 'end') await up.drained()
 *       yield f
 *     }
 *   } finally { up.off() }
 * }
 * ```
 */
export function orderedUpstream(
  ctx: ProcessorContext,
  passNow: (frame: Frame) => boolean,
  handle: (frame: Frame) => readonly Frame[] | Promise<readonly Frame[]>,
): { off: () => void; drained: () => Promise<void> } {
  let chain: Promise<void> = Promise.resolve()
  let queued = 0
  const off = ctx.onUpstream((frame, next) => {
    if (passNow(frame)) {
      next(frame)
      return
    }
    const deliver = (out: readonly Frame[]): void => {
      try {
        for (const f of out) next(f)
      } catch (err) {
        reportError(ctx, err)
      }
    }
    if (queued === 0) {
      // Nothing pending: try to handle it synchronously (a sync handler keeps upstream delivery synchronous).
      let result: readonly Frame[] | Promise<readonly Frame[]>
      try {
        result = handle(frame)
      } catch (err) {
        reportError(ctx, err)
        return
      }
      if (!(result instanceof Promise)) {
        deliver(result)
        return
      }
      queued++
      chain = result.then(deliver, (err: unknown) => reportError(ctx, err)).finally(() => {
        queued--
      })
      return
    }
    queued++
    chain = chain
      .then(() => handle(frame))
      .then(deliver, (err: unknown) => reportError(ctx, err))
      .finally(() => {
        queued--
      })
  })
  return { off, drained: () => chain }
}

/** True for functions declared `async` (their results are always promises). @internal */
export function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && Object.prototype.toString.call(fn) === '[object AsyncFunction]'
}

/** Which directions a direction-aware processor applies to. */
export type Directions = Direction | 'both'

/** Checks a `direction` option; returns whether the processor applies to `'down'` and to `'up'`. @internal */
export function parseDirections(where: string, value: unknown): { down: boolean; up: boolean } {
  if (value === undefined || value === 'both') return { down: true, up: true }
  if (value === 'down') return { down: true, up: false }
  if (value === 'up') return { down: false, up: true }
  throw new TypeError(`${where} must be 'down', 'up' or 'both', got ${JSON.stringify(value) ?? String(value)}`)
}
