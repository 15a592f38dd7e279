/**
 * `nullFilter()`: drops everything but the lifecycle frames.
 * @module
 */
import type { Processor } from '../../core/processor.js'
import type { Frame } from '../../frames/types.js'
import { isLifecycleFrame } from './lifecycle.js'
import { parseDirections, twoWayStep, type Directions } from '../../operators/two-way.js'

/** Options of {@link nullFilter}. */
export interface NullFilterOptions {
  /** Let the lifecycle frames (`LIFECYCLE_TYPES`) pass. Default true; false drops every frame (the Python `NullFilter`). */
  readonly passLifecycle?: boolean
  /** The directions the filter applies to; frames of the other direction pass. Default `'both'`. */
  readonly direction?: Directions
  /** Display name. Default `'nullFilter'`. */
  readonly name?: string
}

/**
 * Drops every frame except the lifecycle frames (`start`, `end`, `cancel`, `stopTask`, `error`, `metrics`, `sync`),
 * so a branch ending in a null filter still starts, ends and reports errors. Fused with neighbouring per-frame stages.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | `cancel`, `stopTask`, `error`, `metrics` pass; interruptions, `interruptionTask`, `stopInterruption` dropped | same |
 * | control | `start`, `end`, `sync` pass; `syncNotify` dropped | same |
 * | data | dropped | dropped |
 * | app | dropped | dropped |
 *
 * `passLifecycle: false` drops everything (use it only where nothing downstream needs `end`).
 *
 * @example
 * ```ts
 * import { nullFilter, pipeline } from 'apipeline-ts'
 *
 * // A branch kept only for its side effects; its frames are not merged back.
 * const sideEffects = pipeline(recordToDisk, nullFilter())
 * ```
 */
export function nullFilter<F extends Frame = Frame>(options: NullFilterOptions = {}): Processor<F, F> {
  if (options === null || typeof options !== 'object') throw new TypeError('nullFilter(options) must be an object')
  const passLifecycle = options.passLifecycle ?? true
  if (typeof passLifecycle !== 'boolean') throw new TypeError('nullFilter: passLifecycle must be a boolean')
  const applies = parseDirections('nullFilter: direction', options.direction)
  return twoWayStep<F, F>(options.name ?? 'nullFilter', (frame, emit, direction) => {
    if (!applies[direction] || (passLifecycle && isLifecycleFrame(frame))) emit(frame)
  })
}
