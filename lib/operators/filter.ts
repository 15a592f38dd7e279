/**
 * `filter(predicate)`: keep the frames the predicate accepts.
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Processor } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { alwaysPasses, stepProcessor } from './step-processor.js'

/**
 * A processor that forwards the frames for which `predicate(frame, ctx)` is true. System frames and `start`/`end`
 * always pass (a filter cannot break the lifecycle). Fused with neighbouring per-frame operators.
 *
 * @example
 * ```ts
 * const nonEmpty = filter((f) => f.type !== 'text' || f.text.trim() !== '')
 * ```
 */
export function filter<F extends Frame = Frame>(
  predicate: (frame: F, ctx: ProcessorContext) => boolean,
  name = 'filter',
): Processor<F, F> {
  if (typeof predicate !== 'function') throw new TypeError('filter(predicate): predicate must be a function')
  return stepProcessor<F, F>(name, (frame, emit, ctx) => {
    if (alwaysPasses(frame) || predicate(frame as F, ctx)) emit(frame)
  })
}
