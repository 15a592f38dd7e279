/**
 * `fromCallback(setup)`: an input from any push-based producer, through a bounded buffer.
 * @module
 */
import { isFrame } from '../frames/guards.js'
import type { Frame } from '../frames/types.js'
import { describe } from '../frames/validate.js'
import { Channel } from '../internal/channel.js'
import { BufferOverflowError, parseCapacity, parseOverflow, type OverflowPolicy } from './overflow.js'

/** What `setup` receives: where the producer pushes its frames. */
export interface FrameSink {
  /**
   * Adds a frame. Returns `undefined` when it was stored (or dropped by the overflow policy), or, under the `'wait'`
   * policy with a full buffer, a promise that settles once it is stored. Ignored after `end()`, `fail()` or teardown.
   * Throws a `TypeError` for a value that is not a frame.
   */
  push(frame: Frame): Promise<void> | undefined
  /** No more frames: the consumer reads what is buffered, then the input ends. */
  end(): void
  /** The input fails with `error` (buffered frames are dropped). */
  fail(error: unknown): void
  /** Aborts when the consumer stops reading (teardown) — stop producing then. */
  readonly signal: AbortSignal
  /** Frames currently buffered. */
  readonly size: number
}

/** Options of {@link fromCallback}. */
export interface FromCallbackOptions {
  /** Frames buffered before the overflow policy applies. Default 64. */
  readonly capacity?: number
  /** What happens when the buffer is full; see {@link OverflowPolicy}. Default `'error'`. */
  readonly overflow?: OverflowPolicy
  /** Sees each frame dropped by `'dropOldest'` / `'dropNewest'`. */
  readonly onDrop?: (frame: Frame) => void
}

/** Cleanup returned by `setup`: called once, when the producer ends or fails, or when the consumer stops reading. */
export type Unsubscribe = () => void

/**
 * An input (an `AsyncIterable<Frame>` for `run()` or `queueFrames`) fed by a push-based producer. `setup(sink)` is
 * called when iteration starts; it subscribes the producer, which calls `sink.push(frame)`, and finally `sink.end()`
 * or `sink.fail(err)`; it may return a cleanup function. The buffer is bounded (`capacity`); when it is full the
 * `overflow` policy applies (default `'error'`: the input fails with a {@link BufferOverflowError}; `'wait'` gives
 * backpressure through the promise `push` returns). When the consumer stops early (`return()`, e.g. the run was
 * cancelled), `sink.signal` aborts, the cleanup runs and later pushes are ignored. Each iteration subscribes anew.
 *
 * @example
 * ```ts
 * import { fromCallback, run, Frames } from 'apipeline-ts'
 *
 * const input = fromCallback((sink) => {
 *   const onMessage = (text: string) => sink.push(Frames.text(text))
 *   socket.on('message', onMessage)
 *   socket.once('close', () => sink.end())
 *   return () => socket.off('message', onMessage)
 * }, { capacity: 256, overflow: 'dropOldest' })
 * for await (const f of run(bot, input)) send(f)
 * ```
 */
export function fromCallback(
  setup: (sink: FrameSink) => Unsubscribe | void,
  options: FromCallbackOptions = {},
): AsyncIterable<Frame> {
  if (typeof setup !== 'function') throw new TypeError('fromCallback(setup): setup must be a function')
  if (options === null || typeof options !== 'object') throw new TypeError('fromCallback(options) must be an object')
  const capacity = parseCapacity('fromCallback', options.capacity, 64)
  const overflow = parseOverflow('fromCallback', options.overflow, 'error')
  const onDrop = options.onDrop
  if (onDrop !== undefined && typeof onDrop !== 'function') throw new TypeError('fromCallback: onDrop must be a function')
  return {
    [Symbol.asyncIterator](): AsyncIterator<Frame> {
      return subscribe(setup, capacity, overflow, onDrop)
    },
  }
}

function subscribe(
  setup: (sink: FrameSink) => Unsubscribe | void,
  capacity: number,
  overflow: OverflowPolicy,
  onDrop: ((frame: Frame) => void) | undefined,
): AsyncIterator<Frame> {
  const channel = new Channel<Frame>(capacity)
  const controller = new AbortController()
  let open = true
  let cleanup: Unsubscribe | undefined
  let cleaned = false
  const runCleanup = (): void => {
    if (cleaned) return
    cleaned = true
    const c = cleanup
    cleanup = undefined
    c?.()
  }
  const dropped = (frame: Frame): void => {
    try {
      onDrop?.(frame)
    } catch {
      // An observer that throws must not break the producer.
    }
  }
  const sink: FrameSink = {
    signal: controller.signal,
    get size() {
      return channel.size
    },
    push(frame) {
      if (!isFrame(frame)) throw new TypeError(`fromCallback: push() needs a frame, got ${describe(frame)}`)
      if (!open) return undefined
      if (channel.size < capacity || overflow === 'wait') return channel.push(frame)
      switch (overflow) {
        case 'dropOldest': {
          const oldest = channel.tryTake()
          if (oldest !== undefined) dropped(oldest.value)
          return channel.push(frame)
        }
        case 'dropNewest':
          dropped(frame)
          return undefined
        default:
          sink.fail(new BufferOverflowError(capacity, 'fromCallback'))
          return undefined
      }
    },
    end() {
      if (!open) return
      open = false
      channel.close()
      runCleanup()
    },
    fail(error) {
      if (!open) return
      open = false
      channel.abort(error ?? new Error('fromCallback: the producer failed'))
      runCleanup()
    },
  }
  let started = false
  const start = (): void => {
    started = true
    try {
      const c = setup(sink) as Unsubscribe | undefined
      if (c !== undefined && typeof c !== 'function') throw new TypeError('fromCallback: setup must return a cleanup function or nothing')
      if (cleaned || !open) c?.()
      else cleanup = c
    } catch (err) {
      sink.fail(err)
    }
  }
  return {
    next() {
      if (!started) start()
      return channel.next()
    },
    return() {
      open = false
      started = true
      controller.abort()
      channel.abort()
      runCleanup()
      return Promise.resolve({ done: true, value: undefined })
    },
  }
}
