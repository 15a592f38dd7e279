/**
 * `map(fn)`: replace every frame by `fn(frame)`.
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Processor } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { stepProcessor } from './step-processor.js'
import { mapStep } from '../core/fuse.js'

/**
 * A processor that replaces each frame with `fn(frame, ctx)`, synchronously. Consecutive `map`/`filter`/`tap`/
 * `flatMap` stages are fused into one async hop. If `fn` throws, that frame is dropped and an `error` frame naming
 * this stage goes upstream.
 *
 * `fn` sees every frame, lifecycle frames included: return frames you do not handle unchanged.
 *
 * @example
 * ```ts
 * const upper = map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
 * ```
 */
export function map<I extends Frame = Frame, O extends Frame = Frame>(
  fn: (frame: I, ctx: ProcessorContext) => O,
  name = 'map',
): Processor<I, O> {
  if (typeof fn !== 'function') throw new TypeError('map(fn): fn must be a function')
  return stepProcessor<I, O>(name, mapStep(fn as unknown as (frame: Frame, ctx: ProcessorContext) => Frame))
}
