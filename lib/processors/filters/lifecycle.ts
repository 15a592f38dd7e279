/**
 * The frames no filter drops unless asked to: the ones that start, end, stop, report and synchronise a run.
 * @module
 */
import type { BuiltinFrameType, Frame } from '../../frames/types.js'

/**
 * The lifecycle frame types: `start`, `end`, `cancel`, `stopTask`, `error`, `metrics`, `sync`. Filters let them pass
 * unless told otherwise (`passLifecycle: false`), so a filter cannot break shutdown, error reporting or a barrier.
 * @example
 * ```ts
 * LIFECYCLE_TYPES.includes('end') // true
 * ```
 */
export const LIFECYCLE_TYPES: readonly BuiltinFrameType[] = Object.freeze([
  'start',
  'end',
  'cancel',
  'stopTask',
  'error',
  'metrics',
  'sync',
] as const)

const LIFECYCLE = new Set<string>(LIFECYCLE_TYPES)

/**
 * True for the frames of {@link LIFECYCLE_TYPES}.
 * @example
 * ```ts
 * isLifecycleFrame(Frames.end()) // true
 * isLifecycleFrame(Frames.text('hi')) // false
 * ```
 */
export function isLifecycleFrame(frame: Frame): boolean {
  return frame.kind !== 'app' && frame.kind !== 'data' && LIFECYCLE.has(frame.type)
}
