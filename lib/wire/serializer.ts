/**
 * The serializer interface shared by the wire formats.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { FrameDecodeError } from './errors.js'

/** What a decoder accepts: bytes (a `Uint8Array`, a Node `Buffer`, any `ArrayBufferView`, an `ArrayBuffer`) or a string. */
export type WireInput = Uint8Array | ArrayBufferView | ArrayBuffer | string

/**
 * A wire format for frames: `serialize` turns a frame into one message, `deserialize` turns one message back into
 * a frame with the same `id` and `name`.
 *
 * - `serialize` throws a {@link FrameEncodeError} for a frame the format cannot carry (check with `supports`).
 * - `deserialize` throws a {@link FrameDecodeError} for any bad input, and nothing else.
 *
 * @example
 * ```ts
 * function roundTrip<W extends Uint8Array | string>(ser: FrameSerializer<W>, frame: Frame): Frame {
 *   return ser.deserialize(ser.serialize(frame))
 * }
 * roundTrip(jsonSerializer(), Frames.text('hi'))
 * ```
 */
export interface FrameSerializer<W extends Uint8Array | string = Uint8Array | string> {
  /** The format's name: `'protobuf'` or `'json'` for the built-in ones. */
  readonly format: string
  /** True when `serialize(frame)` can write this frame's type (the content may still be invalid). */
  supports(frame: Frame): boolean
  /** One frame → one message. */
  serialize(frame: Frame): W
  /** One message → one frame. */
  deserialize(data: WireInput): Frame
}

/** A plain `Uint8Array` view of binary input (no copy), or the string; anything else is a {@link FrameDecodeError}. */
export function wireInput(format: string, data: unknown): Uint8Array | string {
  if (typeof data === 'string') return data
  if (data instanceof Uint8Array) {
    return Object.getPrototypeOf(data) === Uint8Array.prototype ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  }
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  throw new FrameDecodeError(format, `input must be bytes or a string, got ${data === null ? 'null' : typeof data}`)
}
