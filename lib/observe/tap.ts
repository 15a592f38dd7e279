/**
 * The one hook the pipeline core calls when observers are attached: `runtime.tap` is undefined otherwise, so an
 * unobserved run pays one property check per frame and stage.
 * @module
 */
import type { Frame } from '../frames/types.js'
import type { FlowDirection } from './events.js'

/** Receives every frame leaving a processor of an observed run. */
export interface FrameTap {
  /**
   * `frame` left the processor named `processor` (path-qualified) travelling `direction`. `alone` tells that no other
   * frame is likely to be seen in the same job of the event loop (the frame came from an awaited result), so its time
   * is read for it alone rather than shared with the rest of the job.
   */
  frame(frame: Frame, processor: string, direction: FlowDirection, alone?: boolean): void
  /**
   * The frames that left the first `count` steps of a fused run during one synchronous call (`frames[j]` left the step
   * named `names[j]`), in order, travelling downstream: the same as `count` calls of {@link FrameTap.frame}, in one.
   */
  steps(frames: readonly Frame[], names: readonly string[], count: number): void
  /**
   * True while every observer is full and selects every frame leaving a processor: what the steps of a fused run
   * emit would be counted as dropped, not recorded, so the run may skip collecting it and call
   * {@link FrameTap.stepsDropped} with how many step outputs there were.
   */
  full(): boolean
  /** `count` frames left steps of a fused run while {@link FrameTap.full}: each observer counts them as dropped. */
  stepsDropped(count: number): void
}
