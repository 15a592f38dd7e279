/**
 * How frames are written into session messages: the session's binary format (protobuf by default, the schema the
 * Python apipeline speaks) for the frames it carries, the lossless JSON format for every other frame.
 * @module
 */
import { jsonSerializer, protobufSerializer, type FrameSerializer } from '../wire/index.js'
import type { Frame } from '../frames/types.js'
import { Codec } from './envelope.js'

const encoder = new TextEncoder()

/** Encodes and decodes the frames of one session. */
export interface FrameCodec {
  /** The binary format's name, agreed at session open. */
  readonly format: string
  /** The codec flag and bytes of `frame`; throws `FrameEncodeError` for a frame neither format can carry. */
  encode(frame: Frame): { codec: Codec; bytes: Uint8Array }
  /** The frame in `bytes`; throws `FrameDecodeError` for bad bytes. */
  decode(codec: Codec, bytes: Uint8Array): Frame
}

/**
 * The codec for `binary` (default: protobuf, with decoded audio and image bytes copied out of the message).
 * @example
 * ```ts
 * const codec = frameCodec()
 * const { codec: c, bytes } = codec.encode(Frames.text('hi')) // protobuf
 * codec.decode(c, bytes)
 * ```
 */
export function frameCodec(custom?: FrameSerializer): FrameCodec {
  const binary = custom ?? protobufSerializer({ copyBytes: true })
  const json = jsonSerializer()
  return {
    format: binary.format,
    encode(frame) {
      if (binary.supports(frame)) {
        const out = binary.serialize(frame)
        // The bytes may wait for the end of the turn: a custom serializer's are copied, in case it reuses its buffer.
        return { codec: Codec.binary, bytes: typeof out === 'string' ? encoder.encode(out) : custom === undefined ? out : out.slice() }
      }
      return { codec: Codec.json, bytes: encoder.encode(json.serialize(frame) as string) }
    },
    decode(codec, bytes) {
      return codec === Codec.binary ? binary.deserialize(bytes) : json.deserialize(bytes)
    },
  }
}
