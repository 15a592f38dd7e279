/**
 * `gatedAggregator({ open, close })`: hold frames while a gate is closed, release them when it opens.
 * @module
 */
import { asContext, type ProcessorContext } from '../../core/context.js'
import { withInfo, type Processor } from '../../core/processor.js'
import { isInterruption } from '../../frames/guards.js'
import type { Frame } from '../../frames/types.js'
import { parseDirections, reportError, type Direction } from '../../operators/two-way.js'
import { parseAtEnd, parseInterruption, reportDiscarded, type AtEndPolicy, type InterruptionPolicy } from './held.js'

/** Options of {@link gatedAggregator}. */
export interface GatedAggregatorOptions {
  /** While closed: a frame for which this is true opens the gate (it is emitted first, then the held frames). */
  readonly open: (frame: Frame) => boolean
  /** While open: a frame for which this is true closes the gate (that frame is held). */
  readonly close: (frame: Frame) => boolean
  /** Whether the gate starts open. Default false. */
  readonly startOpen?: boolean
  /** The direction the gate applies to; frames of the other direction pass. Default `'down'`. */
  readonly direction?: Direction
  /** Frames still held at `end`: `'flush'` (default) emits them before `end`; `'discard'` drops them and reports an `error` frame. */
  readonly atEnd?: AtEndPolicy
  /** A downstream interruption: `'drop'` (default) drops held data frames (held app frames stay); `'keep'` keeps all. */
  readonly interruption?: InterruptionPolicy
  /** Display name. Default `'gatedAggregator'`. */
  readonly name?: string
}

/**
 * A gate over data and app frames. While the gate is closed, frames are held; a frame for which `open(frame)` is true
 * opens it: that frame is emitted, then every held frame in arrival order. While open, frames pass, and a frame for
 * which `close(frame)` is true closes the gate and is itself held (the Python `GatedAggregator` semantics). System
 * and control frames are never held. Unlike the Python version, frames still held at `end` are not lost: they are
 * emitted before `end` (or discarded with an `error` report, `atEnd: 'discard'`). A predicate that throws is reported
 * and leaves the gate as it was (the frame is then held or passed by the current state).
 *
 * | frame kind | gated direction (default down) | other direction |
 * |---|---|---|
 * | system | pass; a downstream interruption drops held data frames (`interruption: 'drop'`) | pass |
 * | control | pass; `end` (downstream) first flushes the held frames of both directions | pass |
 * | data | gate logic: held while closed, released when it opens | pass |
 * | app | gate logic | pass |
 *
 * @example
 * ```ts
 * import { gatedAggregator, Frames } from 'apipeline-ts'
 *
 * // Hold text until an image arrives, then emit the image followed by the held text.
 * const textAfterImage = gatedAggregator({
 *   open: (f) => f.type === 'imageRaw',
 *   close: (f) => f.type === 'text',
 *   startOpen: false,
 * })
 * ```
 */
export function gatedAggregator(options: GatedAggregatorOptions): Processor {
  if (options === null || typeof options !== 'object') throw new TypeError('gatedAggregator(options) needs { open, close }')
  const { open, close } = options
  if (typeof open !== 'function') throw new TypeError('gatedAggregator: open must be a predicate (frame) => boolean')
  if (typeof close !== 'function') throw new TypeError('gatedAggregator: close must be a predicate (frame) => boolean')
  const startOpen = options.startOpen ?? false
  if (typeof startOpen !== 'boolean') throw new TypeError('gatedAggregator: startOpen must be a boolean')
  const direction = options.direction ?? 'down'
  const dirs = parseDirections('gatedAggregator: direction', direction)
  if (dirs.down && dirs.up) throw new TypeError("gatedAggregator: direction must be 'down' or 'up'")
  const atEnd = parseAtEnd('gatedAggregator', options.atEnd)
  const onInterruption = parseInterruption('gatedAggregator', options.interruption)
  const name = options.name ?? 'gatedAggregator'

  const aggregator = (source: AsyncIterable<Frame>, context?: ProcessorContext): AsyncIterable<Frame> => {
    const ctx = asContext(context, name)
    let isOpen = startOpen
    let held: Frame[] = []
    const ask = (predicate: (frame: Frame) => boolean, frame: Frame, fallback: boolean): boolean => {
      try {
        return predicate(frame) === true
      } catch (err) {
        reportError(ctx, err)
        return fallback
      }
    }
    /** Runs the gate on `frame`; returns the frames to emit now, in order. */
    const gate = (frame: Frame): Frame[] => {
      if (frame.kind === 'system' || frame.kind === 'control') return [frame]
      isOpen = isOpen ? !ask(close, frame, false) : ask(open, frame, false)
      if (!isOpen) {
        held.push(frame)
        return []
      }
      if (held.length === 0) return [frame]
      const out = [frame, ...held]
      held = []
      return out
    }
    const takeHeld = (): Frame[] => {
      const out = held
      held = []
      return out
    }
    return (async function* gatedAggregatorGen() {
      const off =
        direction === 'up'
          ? ctx.onUpstream((frame, next) => {
              for (const f of gate(frame)) next(f)
            })
          : () => {}
      try {
        for await (const frame of source) {
          if (frame.kind === 'control' && frame.type === 'end') {
            const rest = takeHeld()
            if (atEnd === 'discard') reportDiscarded(ctx, rest, 'at end')
            else if (direction === 'up') for (const f of rest) ctx.pushUpstream(f)
            else yield* rest
            yield frame
            continue
          }
          if (isInterruption(frame) && onInterruption === 'drop' && direction === 'down') {
            held = held.filter((f) => f.kind !== 'data')
          }
          if (direction === 'up') yield frame
          else yield* gate(frame)
        }
      } finally {
        off()
      }
    })()
  }
  return withInfo(aggregator, { name })
}
