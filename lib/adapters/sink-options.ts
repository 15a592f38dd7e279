/**
 * Options shared by the output adapters (`toCallback`, `toArray`, `toWritableStream`).
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Frame } from '../frames/types.js'
import { reportError } from '../operators/two-way.js'

/** Options shared by the output adapters. */
export interface SinkOptions {
  /** Which frames are delivered to the sink. Default: data frames (`text`, `audioRaw`, `imageRaw`), like the seed's output processor. */
  readonly select?: (frame: Frame) => boolean
  /**
   * Forward the delivered frames downstream too (after delivery). Default false: delivered frames are consumed, like
   * the seed's `OutputFrameProcessor`. Frames that are not selected are always forwarded.
   */
  readonly forward?: boolean
  /** Display name. */
  readonly name?: string
}

/** The default selection: data frames. @internal */
export const isDataFrame = (frame: Frame): boolean => frame.kind === 'data'

/** Checks the shared options; returns the selector and the forward flag. @internal */
export function parseSinkOptions(where: string, options: unknown): { select: (frame: Frame) => boolean; forward: boolean } {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}(options) must be an object`)
  const o = options as SinkOptions
  if (o.select !== undefined && typeof o.select !== 'function') throw new TypeError(`${where}: select must be a predicate (frame) => boolean`)
  if (o.forward !== undefined && typeof o.forward !== 'boolean') throw new TypeError(`${where}: forward must be a boolean`)
  return { select: o.select ?? isDataFrame, forward: o.forward ?? false }
}

/** Runs the selector; one that throws is reported upstream and the frame counts as not selected (it is forwarded). @internal */
export function isSelected(select: (frame: Frame) => boolean, frame: Frame, ctx: ProcessorContext): boolean {
  try {
    return select(frame) === true
  } catch (err) {
    reportError(ctx, err)
    return false
  }
}
