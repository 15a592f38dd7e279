/**
 * Stream transforms for the edges of a pipeline: frames → messages on the way out, messages → frames on the way in.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { FrameDecodeError, FrameEncodeError } from './errors.js'
import type { FrameSerializer, WireInput } from './serializer.js'

/** A source a transform accepts: any async or sync iterable. */
export type Source<T> = AsyncIterable<T> | Iterable<T>

/**
 * What to do with a message or frame that fails: `'throw'` (the default) ends the stream with the typed error,
 * `'skip'` drops it and goes on, a function is called with the error and the failed item, then the item is dropped
 * (throw from it to end the stream).
 */
export type WireErrorPolicy<E extends Error, T> = 'throw' | 'skip' | ((error: E, item: T) => void)

/** Options of {@link serializeFrames}. */
export interface SerializeFramesOptions {
  /**
   * A frame that cannot be serialized (a {@link FrameEncodeError}: a type the format does not carry — e.g. `start`
   * and `end` in protobuf — or invalid content). Default `'throw'`.
   */
  readonly onError?: WireErrorPolicy<FrameEncodeError, Frame>
}

/** Options of {@link deserializeFrames}. */
export interface DeserializeFramesOptions {
  /** A message that cannot be decoded (a {@link FrameDecodeError}). Default `'throw'`. */
  readonly onError?: WireErrorPolicy<FrameDecodeError, WireInput>
}

function checkPolicy(where: string, policy: unknown): void {
  if (policy !== undefined && policy !== 'throw' && policy !== 'skip' && typeof policy !== 'function') {
    throw new TypeError(`${where}.onError must be 'throw', 'skip' or a function`)
  }
}

function checkSerializer(where: string, ser: unknown): void {
  const s = ser as Partial<FrameSerializer> | null
  if (s === null || typeof s !== 'object' || typeof s.serialize !== 'function' || typeof s.deserialize !== 'function') {
    throw new TypeError(`${where} must be a FrameSerializer (an object with serialize and deserialize)`)
  }
}

/**
 * A transform from frames to messages, for the output edge of a pipeline: each frame becomes `ser.serialize(frame)`,
 * in order. Frames that fail follow `options.onError`. Stopping early closes the source.
 * @example
 * ```ts
 * const ser = protobufSerializer()
 * // run() output includes start and end, which protobuf does not carry: skip them on purpose
 * for await (const bytes of serializeFrames(ser, { onError: 'skip' })(run(bot, input))) socket.send(bytes)
 * ```
 */
export function serializeFrames<W extends Uint8Array | string>(
  ser: FrameSerializer<W>,
  options: SerializeFramesOptions = {},
): (source: Source<Frame>) => AsyncIterable<W> {
  checkSerializer('serializeFrames(ser)', ser)
  checkPolicy('serializeFrames(options)', options.onError)
  const onError = options.onError ?? 'throw'
  return async function* serialize(source) {
    for await (const frame of source) {
      let out: W
      try {
        out = ser.serialize(frame)
      } catch (err) {
        if (!(err instanceof FrameEncodeError) || onError === 'throw') throw err
        if (onError !== 'skip') onError(err, frame)
        continue
      }
      yield out
    }
  }
}

/**
 * A transform from messages to frames, for the input edge of a pipeline: each message becomes
 * `ser.deserialize(message)`, in order. Messages that fail follow `options.onError`. Stopping early closes the source.
 * @example
 * ```ts
 * const ser = jsonSerializer()
 * const frames = deserializeFrames(ser, { onError: (err) => console.warn(err.message) })(socketMessages)
 * for await (const frame of run(bot, frames)) console.log(Frames.format(frame))
 * ```
 */
export function deserializeFrames(
  ser: FrameSerializer,
  options: DeserializeFramesOptions = {},
): (source: Source<WireInput>) => AsyncIterable<Frame> {
  checkSerializer('deserializeFrames(ser)', ser)
  checkPolicy('deserializeFrames(options)', options.onError)
  const onError = options.onError ?? 'throw'
  return async function* deserialize(source) {
    for await (const data of source) {
      let frame: Frame
      try {
        frame = ser.deserialize(data)
      } catch (err) {
        if (!(err instanceof FrameDecodeError) || onError === 'throw') throw err
        if (onError !== 'skip') onError(err, data)
        continue
      }
      yield frame
    }
  }
}
