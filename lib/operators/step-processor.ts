/**
 * Turns a per-frame step into a processor that pipelines can fuse with its neighbours.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { fuseSteps } from '../core/fuse.js'
import { withInfo, type FrameStep, type Processor } from '../core/processor.js'
import type { Frame } from '../frames/types.js'

/** A processor that runs `step` on every frame; `name` is its display name. */
export function stepProcessor<I extends Frame, O extends Frame>(name: string, step: FrameStep): Processor<I, O> {
  const processor = (source: AsyncIterable<I>, ctx?: ProcessorContext): AsyncIterable<O> => {
    const c = asContext(ctx, name)
    return fuseSteps([{ step, ctx: c }])(source, c) as AsyncIterable<O>
  }
  return withInfo(processor as Processor<I, O>, { step, name })
}

/** True for frames the filtering operators never drop: system frames and `start` / `end`. */
export function alwaysPasses(frame: Frame): boolean {
  return frame.kind === 'system' || (frame.kind === 'control' && (frame.type === 'start' || frame.type === 'end'))
}
