/**
 * `frameTypeFilter({ include, exclude })`: keep or drop frames by their `type`.
 * @module
 */
import type { Processor } from '../../core/processor.js'
import type { Frame } from '../../frames/types.js'
import { isLifecycleFrame } from './lifecycle.js'
import { parseDirections, twoWayStep, type Directions } from '../../operators/two-way.js'

/** Options of {@link frameTypeFilter}. */
export interface FrameTypeFilterOptions {
  /** When given, only frames whose `type` is listed pass (built-in types like `'text'` or app frame types). */
  readonly include?: readonly string[]
  /** Frames whose `type` is listed are dropped (applied after `include`). */
  readonly exclude?: readonly string[]
  /** Let the lifecycle frames (`LIFECYCLE_TYPES`) pass whatever the lists say. Default true. */
  readonly passLifecycle?: boolean
  /** The directions the filter applies to; frames of the other direction pass. Default `'both'`. */
  readonly direction?: Directions
  /** Display name. Default `'frameTypeFilter'`. */
  readonly name?: string
}

function typeSet(where: string, value: unknown): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw new TypeError(`${where} must be an array of frame type strings`)
  for (const t of value) {
    if (typeof t !== 'string' || t.length === 0) {
      throw new TypeError(`${where} must contain non-empty frame type strings, got ${JSON.stringify(t) ?? String(t)}`)
    }
  }
  return new Set<string>(value as string[])
}

/**
 * Keeps the frames whose `type` is in `include` (when given) and not in `exclude`. Unlike the Python `FrameFilter`,
 * the names mean what they say, and the lifecycle frames (`start`, `end`, `cancel`, `stopTask`, `error`, `metrics`,
 * `sync`) always pass unless `passLifecycle: false`. Works on both directions (see `direction`). Fused with
 * neighbouring per-frame stages.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | lifecycle (`cancel`, `stopTask`, `error`, `metrics`) pass; others (interruptions, `interruptionTask`) by the lists | same |
 * | control | `start`, `end`, `sync` pass; `syncNotify` by the lists | same |
 * | data | by the lists | same |
 * | app | by the lists (match the app frame's `type`) | same |
 *
 * With `passLifecycle: false` every frame goes by the lists; with `direction: 'down'` (or `'up'`) frames of the
 * other direction all pass.
 *
 * @example
 * ```ts
 * import { frameTypeFilter, run, Frames } from 'apipeline-ts'
 *
 * const textOnly = frameTypeFilter({ include: ['text'] })
 * const noImages = frameTypeFilter({ exclude: ['imageRaw'] })
 * for await (const f of run(textOnly, [Frames.text('a'), Frames.audioRaw({ audio: new Uint8Array(2) })])) {
 *   console.log(f.type) // start, text, end
 * }
 * ```
 */
export function frameTypeFilter<F extends Frame = Frame>(options: FrameTypeFilterOptions): Processor<F, F> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('frameTypeFilter(options) needs an object like { include: [...] } or { exclude: [...] }')
  }
  const include = typeSet('frameTypeFilter: include', options.include)
  const exclude = typeSet('frameTypeFilter: exclude', options.exclude)
  const passLifecycle = options.passLifecycle ?? true
  if (typeof passLifecycle !== 'boolean') throw new TypeError('frameTypeFilter: passLifecycle must be a boolean')
  const applies = parseDirections('frameTypeFilter: direction', options.direction)
  const keep = (frame: Frame): boolean =>
    (passLifecycle && isLifecycleFrame(frame)) ||
    ((include === undefined || include.has(frame.type)) && (exclude === undefined || !exclude.has(frame.type)))
  return twoWayStep<F, F>(options.name ?? 'frameTypeFilter', (frame, emit, direction) => {
    if (!applies[direction] || keep(frame)) emit(frame)
  })
}
