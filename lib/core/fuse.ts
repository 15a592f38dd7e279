/**
 * Stage fusion: consecutive per-frame steps (`map`, `filter`, `tap`, `flatMap`) run in one async hop.
 * Each step keeps its own context, so an exception is reported as an `error` frame naming that step, from
 * that step's place in the pipeline, and only the frame that failed is lost.
 * @module
 */
import { isFatal } from '../errors.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import type { Context } from './context.js'
import type { FrameStep, Processor } from './processor.js'
import { errorMessage } from './stage.js'

/** One step of a fused stage with the context of the stage it came from. */
export interface FusedStep {
  readonly step: FrameStep
  readonly ctx: Context
}

function reportStepError(ctx: Context, err: unknown): void {
  ctx.pushUpstream(errorFrame(errorMessage(err), { fatal: isFatal(err), processor: ctx.name, cause: err }))
}

/** A processor running `steps` in order over every frame, in one async hop per input frame. */
export function fuseSteps(steps: readonly FusedStep[]): Processor {
  return async function* fused(source) {
    const out: Frame[] = []
    let emit: (frame: Frame) => void = (frame) => {
      out.push(frame)
    }
    for (let k = steps.length - 1; k >= 0; k--) {
      const { step, ctx } = steps[k] as FusedStep
      const next = emit
      emit = (frame) => {
        try {
          step(frame, next, ctx)
        } catch (err) {
          reportStepError(ctx, err)
        }
      }
    }
    const first = emit
    for await (const frame of source) {
      first(frame)
      if (out.length === 1) {
        const only = out[0] as Frame
        out.length = 0
        yield only
      } else if (out.length > 1) {
        const batch = out.splice(0, out.length)
        for (const f of batch) yield f
      }
    }
  }
}
