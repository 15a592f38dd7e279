/**
 * Exception-free wire functions: results as fp-ts `Either` values, for code that treats bad messages as data.
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Frame } from '../frames/types.js'
import { FrameDecodeError, FrameEncodeError } from './errors.js'
import type { FrameSerializer, WireInput } from './serializer.js'

/**
 * `deserialize` as a function returning `Left(FrameDecodeError)` for a bad message instead of throwing.
 * @example
 * ```ts
 * import { pipe } from 'fp-ts/lib/function.js'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const decode = decodeEither(protobufSerializer())
 * pipe(decode(bytes), E.match((err: Error) => log(err.message), (frame: Frame) => task.queueFrame(frame)))
 * ```
 */
export function decodeEither(serializer: FrameSerializer): (data: WireInput) => E.Either<FrameDecodeError, Frame> {
  return (data) => {
    try {
      return E.right(serializer.deserialize(data))
    } catch (err) {
      if (err instanceof FrameDecodeError) return E.left(err)
      throw err
    }
  }
}

/**
 * `serialize` as a function returning `Left(FrameEncodeError)` for a frame the format cannot carry instead of throwing.
 * @example
 * ```ts
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const encode = encodeEither(protobufSerializer())
 * E.isLeft(encode(Frames.end())) // true: protobuf carries no end frame
 * ```
 */
export function encodeEither<W extends Uint8Array | string>(
  serializer: FrameSerializer<W>,
): (frame: Frame) => E.Either<FrameEncodeError, W> {
  return (frame) => {
    try {
      return E.right(serializer.serialize(frame))
    } catch (err) {
      if (err instanceof FrameEncodeError) return E.left(err)
      throw err
    }
  }
}
