/**
 * `tap(fn)`: observe every frame.
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Processor } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { stepProcessor } from './step-processor.js'

/**
 * A processor that calls `fn(frame, ctx)` for every frame and forwards the frame unchanged. If `fn` throws, the
 * frame is still forwarded and an `error` frame goes upstream. Fused with neighbouring per-frame operators.
 *
 * @example
 * ```ts
 * const count = { n: 0 }
 * const counter = tap(() => { count.n++ })
 * ```
 */
export function tap<F extends Frame = Frame>(fn: (frame: F, ctx: ProcessorContext) => void, name = 'tap'): Processor<F, F> {
  if (typeof fn !== 'function') throw new TypeError('tap(fn): fn must be a function')
  return stepProcessor<F, F>(name, (frame, emit, ctx) => {
    try {
      fn(frame as F, ctx)
    } finally {
      emit(frame)
    }
  })
}
