/**
 * `fromPushable(pushable)`: an input from an it-pushable.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { PullSource } from './pull-source.js'

/** The part of an it-pushable (`pushable<Frame>({ objectMode: true })`) the adapter uses. */
export interface PushableLike extends AsyncIterable<unknown> {
  end(err?: Error): unknown
  readonly readableLength?: number
}

/**
 * An input (an `AsyncIterable<Frame>`) over an it-pushable in object mode. Frames are taken one at a time as the
 * pipeline wants them; pushed values that are not frames fail the input with a `TypeError`. Early teardown
 * (`return()`, e.g. the run was cancelled) ends the pushable and drops what it still buffers, even while a read is
 * pending. it-pushable's own buffer is unbounded: to bound it, check `pushable.readableLength` before pushing, or
 * await `pushable.onEmpty({ signal })` (pass a signal: without one, it-pushable 3.2.4's `onEmpty()` does not wait) —
 * or use {@link fromCallback} with `overflow: 'wait'`.
 *
 * @example
 * ```ts
 * import { pushable } from 'it-pushable'
 * import { fromPushable, run, Frames, type Frame } from 'apipeline-ts'
 *
 * const p = pushable<Frame>({ objectMode: true })
 * const output = run(bot, fromPushable(p))
 * p.push(Frames.text('hello'))
 * p.end()
 * ```
 */
export function fromPushable(pushable: PushableLike): AsyncIterable<Frame> {
  if (
    pushable === null ||
    typeof pushable !== 'object' ||
    typeof pushable.end !== 'function' ||
    typeof (pushable as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== 'function'
  ) {
    throw new TypeError('fromPushable(pushable) needs an it-pushable (pushable({ objectMode: true }))')
  }
  return {
    [Symbol.asyncIterator](): AsyncIterator<Frame> {
      const it = pushable[Symbol.asyncIterator]()
      return new PullSource(
        'fromPushable',
        {
          read: () => it.next(),
          cancel: () => {
            pushable.end()
            // An it-pushable's return() clears its buffer and settles a pending read.
            return it.return?.()
          },
        },
        undefined,
      )
    },
  }
}
