/**
 * `functionFilter(predicate)`: keep the frames a (sync or async) predicate accepts, in both directions.
 * @module
 */
import { asContext, type ProcessorContext } from '../../core/context.js'
import { withInfo, type Processor } from '../../core/processor.js'
import { isAbortLike, isFatal } from '../../errors.js'
import type { Frame } from '../../frames/types.js'
import { isLifecycleFrame } from './lifecycle.js'
import { isAsyncFunction, orderedUpstream, reportError, twoWayStep, type Direction } from '../../operators/two-way.js'

/** What a {@link functionFilter} predicate receives besides the frame. */
export interface FilterInfo {
  /** The direction the frame travels. */
  readonly direction: Direction
  /** The stage's `ctx.signal`: aborts on cancel and on interruptions. Pass it to async work. */
  readonly signal: AbortSignal
  /** The stage's context. */
  readonly ctx: ProcessorContext
}

/** A {@link functionFilter} predicate: true keeps the frame. May return a promise (see `async`). */
export type FramePredicate<F extends Frame = Frame> = (frame: F, info: FilterInfo) => boolean | Promise<boolean>

/** Options of {@link functionFilter}. */
export interface FunctionFilterOptions {
  /**
   * Treat the predicate as asynchronous (its results are awaited, one frame at a time, in order). Default: true for
   * functions declared `async`, else false. A synchronous filter is fused with neighbouring per-frame stages; if its
   * predicate returns a promise anyway, the frame is dropped and a `TypeError` is reported.
   */
  readonly async?: boolean
  /** Let `start`, `end` and `sync` pass without asking the predicate. Default true. System frames always pass. */
  readonly passLifecycle?: boolean
  /** Display name. Default `'functionFilter'`. */
  readonly name?: string
}

function verdict(value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(
      value instanceof Promise
        ? 'functionFilter: the predicate returned a promise; declare it `async` or pass { async: true }'
        : `functionFilter: the predicate must return a boolean, got ${typeof value}`,
    )
  }
  return value
}

/**
 * Keeps the frames for which `predicate(frame, { direction, signal, ctx })` is true, in both directions. System frames
 * always pass; `start`, `end` and `sync` pass without asking the predicate unless `passLifecycle: false` (the Python
 * `FunctionFilter` could drop them). The predicate may be synchronous (fused with neighbouring stages) or async
 * (awaited per frame, order kept; `info.signal` aborts on cancel and interruptions). A predicate that throws drops
 * that frame and reports an `error` frame naming the stage; a `FatalError` ends the task.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass (never asked) | pass at once (may overtake upstream frames waiting for an async predicate) |
 * | control | `start`/`end`/`sync` pass; `syncNotify` asked | same (kept in order with the other upstream frames) |
 * | data | asked | asked |
 * | app | asked | asked |
 *
 * @example
 * ```ts
 * import { functionFilter, Frames } from 'apipeline-ts'
 *
 * const nonEmpty = functionFilter((f) => f.type !== 'text' || f.text.trim() !== '')
 * const moderated = functionFilter(async (f, { signal }) => f.type !== 'text' || (await isAllowed(f.text, signal)))
 * ```
 */
export function functionFilter<F extends Frame = Frame>(
  predicate: FramePredicate<F>,
  options: FunctionFilterOptions = {},
): Processor<F, F> {
  if (typeof predicate !== 'function') throw new TypeError('functionFilter(predicate): predicate must be a function')
  if (options === null || typeof options !== 'object') throw new TypeError('functionFilter(options) must be an object')
  const name = options.name ?? 'functionFilter'
  const passLifecycle = options.passLifecycle ?? true
  if (typeof passLifecycle !== 'boolean') throw new TypeError('functionFilter: passLifecycle must be a boolean')
  const isAsync = options.async ?? isAsyncFunction(predicate)
  if (typeof isAsync !== 'boolean') throw new TypeError('functionFilter: async must be a boolean')
  const alwaysPass = (frame: Frame): boolean => frame.kind === 'system' || (passLifecycle && isLifecycleFrame(frame))

  if (!isAsync) {
    return twoWayStep<F, F>(name, (frame, emit, direction, ctx) => {
      if (alwaysPass(frame) || verdict(predicate(frame as F, { direction, signal: ctx.signal, ctx }))) emit(frame)
    })
  }

  const asyncFilter = (source: AsyncIterable<F>, context?: ProcessorContext): AsyncIterable<F> => {
    const ctx = asContext(context, name)
    const ask = (frame: Frame, direction: Direction): boolean | Promise<boolean> => {
      const result = predicate(frame as F, { direction, signal: ctx.signal, ctx })
      return result instanceof Promise ? result.then(verdict) : verdict(result)
    }
    return (async function* functionFilterAsync() {
      const up = orderedUpstream(
        ctx,
        (frame) => frame.kind === 'system',
        (frame) => {
          if (alwaysPass(frame)) return [frame]
          const keep = ask(frame, 'up')
          return keep instanceof Promise ? keep.then((k) => (k ? [frame] : [])) : keep ? [frame] : []
        },
      )
      try {
        for await (const frame of source) {
          if (alwaysPass(frame)) {
            // `end` waits for the upstream frames still being asked about, so none is left behind.
            if (frame.kind === 'control' && frame.type === 'end') await up.drained()
            yield frame
            continue
          }
          let keep: boolean
          try {
            const result = ask(frame, 'down')
            keep = result instanceof Promise ? await result : result
          } catch (err) {
            if (isFatal(err) || isAbortLike(err)) throw err
            reportError(ctx, err)
            continue
          }
          if (keep) yield frame
        }
      } finally {
        up.off()
      }
    })()
  }
  return withInfo(asyncFilter as Processor<F, F>, { name })
}
