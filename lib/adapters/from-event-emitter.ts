/**
 * `fromEventEmitter(emitter)`: an input from an event emitter's events.
 * @module
 */
import { isFrame } from '../frames/guards.js'
import type { Frame } from '../frames/types.js'
import { describe } from '../frames/validate.js'
import { fromCallback } from './from-callback.js'
import { parseCapacity, parseOverflow, type OverflowPolicy } from './overflow.js'

type Listener = (...args: any[]) => void

/** Anything with `on` and `off` (or `removeListener`): a Node `EventEmitter`, and most emitter libraries. */
export interface EmitterLike {
  on(event: string, listener: Listener): unknown
  off?(event: string, listener: Listener): unknown
  removeListener?(event: string, listener: Listener): unknown
}

/** Options of {@link fromEventEmitter}. */
export interface FromEventEmitterOptions {
  /** The event that carries frames. Default `'frame'`. */
  readonly event?: string
  /** The event that ends the input; `null` for none. Default `'end'`. */
  readonly endEvent?: string | null
  /** The event that fails the input (its first argument is the error); `null` for none. Default `'error'`. */
  readonly errorEvent?: string | null
  /** Turns an event's arguments into a frame (`undefined` skips the event). Default: the first argument, which must be a frame. */
  readonly map?: (...args: any[]) => Frame | undefined
  /** Frames buffered before the overflow policy applies. Default 64. */
  readonly capacity?: number
  /**
   * When the buffer is full: `'error'` (default), `'dropOldest'` or `'dropNewest'`. `'wait'` is refused: an emitter
   * cannot be made to wait.
   */
  readonly overflow?: Exclude<OverflowPolicy, 'wait'>
  /** Sees each frame dropped by `'dropOldest'` / `'dropNewest'`. */
  readonly onDrop?: (frame: Frame) => void
}

/**
 * An input (an `AsyncIterable<Frame>`) of the frames an emitter emits. Listeners are added when iteration starts and
 * removed when the end or error event arrives or the consumer stops early. Emitters cannot wait, so the buffer is
 * bounded by `capacity` with an explicit overflow policy (default `'error'`: the input fails with a
 * `BufferOverflowError`). An event whose arguments do not make a frame fails the input with a `TypeError`.
 *
 * @example
 * ```ts
 * import { EventEmitter } from 'node:events'
 * import { fromEventEmitter, run, Frames } from 'apipeline-ts'
 *
 * const mic = new EventEmitter()
 * const input = fromEventEmitter(mic, {
 *   event: 'data',
 *   map: (chunk: Uint8Array) => Frames.audioRaw({ audio: chunk }),
 *   overflow: 'dropOldest',
 * })
 * ```
 */
export function fromEventEmitter(emitter: EmitterLike, options: FromEventEmitterOptions = {}): AsyncIterable<Frame> {
  if (emitter === null || typeof emitter !== 'object' || typeof emitter.on !== 'function') {
    throw new TypeError('fromEventEmitter(emitter) needs an object with on() and off() (or removeListener())')
  }
  const off = typeof emitter.off === 'function' ? 'off' : typeof emitter.removeListener === 'function' ? 'removeListener' : undefined
  if (off === undefined) throw new TypeError('fromEventEmitter(emitter): the emitter has no off() or removeListener()')
  if (options === null || typeof options !== 'object') throw new TypeError('fromEventEmitter(options) must be an object')
  const event = options.event ?? 'frame'
  const endEvent = options.endEvent === undefined ? 'end' : options.endEvent
  const errorEvent = options.errorEvent === undefined ? 'error' : options.errorEvent
  for (const [key, value] of [['event', event], ['endEvent', endEvent], ['errorEvent', errorEvent]] as const) {
    if (value !== null && (typeof value !== 'string' || value.length === 0)) {
      throw new TypeError(`fromEventEmitter: ${key} must be a non-empty string${key === 'event' ? '' : ' or null'}`)
    }
  }
  const map = options.map
  if (map !== undefined && typeof map !== 'function') throw new TypeError('fromEventEmitter: map must be a function')
  const overflow = parseOverflow('fromEventEmitter', options.overflow, 'error')
  if (overflow === 'wait') {
    throw new TypeError("fromEventEmitter: overflow 'wait' is not possible (an emitter cannot wait); use 'error', 'dropOldest' or 'dropNewest'")
  }
  const capacity = parseCapacity('fromEventEmitter', options.capacity, 64)
  const remove = (name: string, listener: Listener): void => {
    ;(emitter[off] as (e: string, l: Listener) => unknown).call(emitter, name, listener)
  }

  return fromCallback(
    (sink) => {
      const onFrame: Listener = (...args) => {
        let frame: unknown
        try {
          frame = map === undefined ? args[0] : map(...args)
        } catch (err) {
          sink.fail(err)
          return
        }
        if (frame === undefined && map !== undefined) return
        if (!isFrame(frame)) {
          sink.fail(new TypeError(`fromEventEmitter: event '${event}' did not give a frame, got ${describe(frame)}`))
          return
        }
        sink.push(frame)
      }
      const onEnd: Listener = () => sink.end()
      const onError: Listener = (err: unknown) => sink.fail(err)
      emitter.on(event, onFrame)
      if (endEvent !== null) emitter.on(endEvent, onEnd)
      if (errorEvent !== null) emitter.on(errorEvent, onError)
      return () => {
        remove(event, onFrame)
        if (endEvent !== null) remove(endEvent, onEnd)
        if (errorEvent !== null) remove(errorEvent, onError)
      }
    },
    options.onDrop === undefined ? { capacity, overflow } : { capacity, overflow, onDrop: options.onDrop },
  )
}
