/**
 * Uninterruptible frames: frames no interruption drops (a tool-call result, a transcript to persist).
 *
 * A frame is uninterruptible when its `uninterruptible` field is `true`. Every queue of the library (buffered
 * stages, the branch and output queues of `parallel` / `syncParallel` / `sequential`, the task's output) keeps such a
 * frame, in order, when an interruption drops the data and app frames around it, and the stale-output check at the
 * stage boundary lets it through. The JSON wire format carries the field; the protobuf format (the Python schema has
 * no such field) does not: mark the frame again after decoding it, or use JSON, when it crosses a process.
 * @module
 */
import type { Frame } from '../frames/types.js'

/**
 * A copy of `frame` (same `id` and `name`) marked uninterruptible: no interruption drops it.
 * @example
 * ```ts
 * import { Frames, uninterruptible } from 'apipeline-ts'
 *
 * const result = uninterruptible(Frames.app('toolResult', { callId: 'c1', value: 42 }))
 * result.uninterruptible // true
 * ```
 */
export function uninterruptible<F extends Frame>(frame: F): F {
  if (frame === null || typeof frame !== 'object' || typeof (frame as { kind?: unknown }).kind !== 'string') {
    throw new TypeError('uninterruptible(frame) needs a frame')
  }
  if (frame.uninterruptible === true) return frame
  return { ...frame, uninterruptible: true }
}

/**
 * True when `frame` is marked uninterruptible.
 * @example
 * ```ts
 * import { Frames, isUninterruptible, uninterruptible } from 'apipeline-ts'
 *
 * isUninterruptible(uninterruptible(Frames.text('saved'))) // true
 * isUninterruptible(Frames.text('spoken'))                 // false
 * ```
 */
export function isUninterruptible(frame: Frame): boolean {
  return frame.uninterruptible === true
}

/**
 * True when an interruption may drop `frame`: a data or app frame that is not marked uninterruptible. System and
 * control frames (`start`, `end`, `cancel`, errors, …) are never dropped by an interruption.
 * @example
 * ```ts
 * import { Frames, isInterruptible, uninterruptible } from 'apipeline-ts'
 *
 * isInterruptible(Frames.text('hi'))                  // true
 * isInterruptible(uninterruptible(Frames.text('hi'))) // false
 * isInterruptible(Frames.end())                       // false
 * ```
 */
export function isInterruptible(frame: Frame): boolean {
  return (frame.kind === 'data' || frame.kind === 'app') && frame.uninterruptible !== true
}
