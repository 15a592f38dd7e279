/**
 * The one hook the pipeline core calls when observers are attached: `runtime.tap` is undefined otherwise, so an
 * unobserved run pays one property check per frame and stage.
 * @module
 */
import type { Frame } from '../frames/types.js'
import type { FlowDirection } from './events.js'

/** Receives every frame leaving a processor of an observed run. */
export interface FrameTap {
  /** `frame` left the processor named `processor` (path-qualified) travelling `direction`. */
  frame(frame: Frame, processor: string, direction: FlowDirection): void
}
