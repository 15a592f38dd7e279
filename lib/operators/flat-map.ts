/**
 * `flatMap(fn)`: replace every frame by zero or more frames.
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Processor } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { stepProcessor } from './step-processor.js'

/**
 * A processor that replaces each frame with the frames of `fn(frame, ctx)` (an array or any iterable), in order.
 * Fused with neighbouring per-frame operators.
 *
 * @example
 * ```ts
 * const words = flatMap((f): Frame[] => (f.type === 'text' ? f.text.split(' ').map((w) => Frames.text(w)) : [f]))
 * ```
 */
export function flatMap<I extends Frame = Frame, O extends Frame = Frame>(
  fn: (frame: I, ctx: ProcessorContext) => Iterable<O>,
  name = 'flatMap',
): Processor<I, O> {
  if (typeof fn !== 'function') throw new TypeError('flatMap(fn): fn must be a function')
  return stepProcessor<I, O>(name, (frame, emit, ctx) => {
    for (const out of fn(frame as I, ctx)) emit(out)
  })
}
