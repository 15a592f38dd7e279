/**
 * Shared option checks of the aggregators that hold frames (gated, hold-frames, hold-last-frame).
 * @module
 */
import type { ProcessorContext } from '../../core/context.js'
import { error as errorFrame } from '../../frames/constructors.js'
import type { Frame } from '../../frames/types.js'

/** What happens to frames still held when `end` arrives: emitted before `end`, or discarded with an `error` report. */
export type AtEndPolicy = 'flush' | 'discard'

/** What a downstream interruption frame does to held frames: drop the held data frames, or keep everything. */
export type InterruptionPolicy = 'drop' | 'keep'

/** Checks an `atEnd` option (default `'flush'`). @internal */
export function parseAtEnd(where: string, value: unknown): AtEndPolicy {
  if (value === undefined) return 'flush'
  if (value === 'flush' || value === 'discard') return value
  throw new TypeError(`${where}: atEnd must be 'flush' or 'discard'`)
}

/** Checks an `interruption` option (default `'drop'`). @internal */
export function parseInterruption(where: string, value: unknown): InterruptionPolicy {
  if (value === undefined) return 'drop'
  if (value === 'drop' || value === 'keep') return value
  throw new TypeError(`${where}: interruption must be 'drop' or 'keep'`)
}

/** Turns a `hold` option (a list of frame types or a predicate) into a predicate. @internal */
export function parseSelector(where: string, value: unknown): (frame: Frame) => boolean {
  if (typeof value === 'function') return value as (frame: Frame) => boolean
  if (Array.isArray(value) && value.length > 0 && value.every((t) => typeof t === 'string' && t.length > 0)) {
    const types = new Set<string>(value as string[])
    return (frame) => types.has(frame.type)
  }
  throw new TypeError(`${where} must be a predicate (frame) => boolean or a non-empty array of frame types`)
}

/** Reports, as a non-fatal `error` frame, frames discarded at `end` (so they are never lost silently). @internal */
export function reportDiscarded(ctx: ProcessorContext, frames: readonly Frame[], why: string): void {
  if (frames.length === 0) return
  const names = frames.slice(0, 5).map((f) => f.name).join(', ')
  const more = frames.length > 5 ? `, … (${frames.length - 5} more)` : ''
  ctx.pushUpstream(
    errorFrame(`${ctx.name}: discarded ${frames.length} held frame(s) ${why}: ${names}${more}`, { processor: ctx.name }),
  )
}
