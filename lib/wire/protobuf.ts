/**
 * The protobuf wire format: `pipeline_frames.Frame` (proto/frames.proto), byte-compatible with the Python
 * apipeline schema. Carries text, audioRaw, imageRaw, interruption, startInterruption and stopInterruption frames.
 * @module
 */
import { fromBinary } from '@bufbuild/protobuf'
import { audioRaw, imageRaw, interruption, startInterruption, stopInterruption, text, withIdentity } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { FrameDecodeError } from './errors.js'
import { FrameSchema } from './gen/frames_pb.js'
import { checkWire } from './protobuf-check.js'
import { encodeProtobuf, PROTOBUF_TYPES } from './protobuf-encode.js'
import { wireInput, type FrameSerializer, type WireInput } from './serializer.js'

const FORMAT = 'protobuf'
const SIZE_PATTERN = /^([0-9]{1,16})x([0-9]{1,16})$/
const MAX_ID = BigInt(Number.MAX_SAFE_INTEGER)

/** Options of {@link protobufSerializer}. */
export interface ProtobufSerializerOptions {
  /**
   * Copy `audio` and `image` bytes out of the input on decode. Default `false`: the decoded frame's bytes are a
   * view into the input buffer (no copy) — pass `true` if the caller reuses or mutates its input buffers.
   */
  readonly copyBytes?: boolean
}

/**
 * The protobuf serializer. `serialize` returns a `Uint8Array`; `deserialize` takes bytes.
 *
 * Encoding writes exactly the bytes the Python serializer writes (zero values — `0`, `""`, empty bytes, `null`
 * format or mode — are left out); payload bytes are copied once, into the output. Decoding:
 * - `id` and `name` come back from the wire; a message without them (id 0, empty name) gets a fresh local identity.
 * - a missing (zero) `sample_rate`, `num_channels` or `sample_width` decodes to the frame defaults 16000, 1, 2
 *   (zero is not a valid value for these fields, so absent means "not set", unlike Python which keeps 0);
 * - an empty `format` or `mode` decodes to `null`; `size` must be `"<width>x<height>"` in decimal digits;
 * - `audio`/`image` share the input buffer unless `copyBytes` is set;
 * - anything malformed (truncated, wrong wire type, length past the end, no known frame, bad size, invalid UTF-8,
 *   an id above 2^53 - 1) throws a {@link FrameDecodeError}; unknown fields are skipped.
 *
 * Frames of other types throw a {@link FrameEncodeError} on `serialize` (check `supports(frame)` first).
 *
 * @example
 * ```ts
 * const ser = protobufSerializer()
 * const bytes = ser.serialize(Frames.text('hello world'))
 * const back = ser.deserialize(bytes) // a text frame with the same id and name
 * ```
 */
export function protobufSerializer(options: ProtobufSerializerOptions = {}): FrameSerializer<Uint8Array> {
  if (options === null || typeof options !== 'object') throw new TypeError('protobufSerializer(options) must be an object')
  const copyBytes = options.copyBytes ?? false
  if (typeof copyBytes !== 'boolean') throw new TypeError('protobufSerializer(options).copyBytes must be a boolean')
  return {
    format: FORMAT,
    supports: (frame: Frame): boolean => frame.kind !== 'app' && PROTOBUF_TYPES.has(frame.type),
    serialize: encodeProtobuf,
    deserialize: (data: WireInput): Frame => decodeProtobuf(data, copyBytes),
  }
}

function fail(message: string, cause?: unknown): never {
  throw new FrameDecodeError(FORMAT, message, cause === undefined ? undefined : { cause })
}

function restoreIdentity<F extends Frame>(frame: F, id: bigint, name: string): F {
  if (id > MAX_ID) fail(`frame id ${id} is above Number.MAX_SAFE_INTEGER`)
  if (id === 0n && name === '') return frame
  return withIdentity(frame, id === 0n ? frame.id : Number(id), name === '' ? frame.name : name)
}

function parseSize(size: string): [number, number] {
  const m = SIZE_PATTERN.exec(size)
  if (m === null) fail(`image size must be "<width>x<height>", got ${JSON.stringify(size.slice(0, 40))}`)
  const w = Number(m[1])
  const h = Number(m[2])
  if (!Number.isSafeInteger(w) || !Number.isSafeInteger(h)) fail(`image size ${size} is out of range`)
  return [w, h]
}

/**
 * Decodes one `pipeline_frames.Frame` message into a frame. Throws only {@link FrameDecodeError}.
 * @example
 * ```ts
 * const bytes = Uint8Array.from([0x0a, 0x0f, 0x08, 0x07, 0x12, 0x0b, ...new TextEncoder().encode('TextFrame#1')])
 * decodeProtobuf(bytes, false) // TextFrame#1 (id 7), text ''
 * ```
 */
export function decodeProtobuf(data: WireInput, copyBytes: boolean): Frame {
  try {
    const bytes = wireInput(FORMAT, data)
    if (typeof bytes === 'string') fail('input must be bytes (Uint8Array or ArrayBuffer), got a string')
    let unknown: number[]
    try {
      unknown = checkWire(FrameSchema, bytes)
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err), err)
    }
    const msg = fromBinary(FrameSchema, bytes, { readUnknownFields: false })
    switch (msg.frame.case) {
      case 'text': {
        const m = msg.frame.value
        return restoreIdentity(text(m.text), m.id, m.name)
      }
      case 'audio': {
        const m = msg.frame.value
        const frame = audioRaw({
          audio: copyBytes ? m.audio.slice() : m.audio,
          sampleRate: m.sampleRate === 0 ? 16000 : m.sampleRate,
          numChannels: m.numChannels === 0 ? 1 : m.numChannels,
          sampleWidth: m.sampleWidth === 0 ? 2 : m.sampleWidth,
        })
        return restoreIdentity(frame, m.id, m.name)
      }
      case 'image': {
        const m = msg.frame.value
        if (m.size === '') fail('image frame without a size')
        const frame = imageRaw({
          image: copyBytes ? m.image.slice() : m.image,
          size: parseSize(m.size),
          format: m.format === '' ? null : m.format,
          mode: m.mode === '' ? null : m.mode,
        })
        return restoreIdentity(frame, m.id, m.name)
      }
      case 'interruption':
        return restoreIdentity(interruption(), msg.frame.value.id, msg.frame.value.name)
      case 'startInterruption':
        return restoreIdentity(startInterruption(), msg.frame.value.id, msg.frame.value.name)
      case 'stopInterruption':
        return restoreIdentity(stopInterruption(), msg.frame.value.id, msg.frame.value.name)
      default:
        return fail(
          bytes.length === 0
            ? 'empty message: no frame'
            : unknown.length > 0
              ? `no known frame in the message (unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')})`
              : 'no known frame in the message',
        )
    }
  } catch (err) {
    if (err instanceof FrameDecodeError) throw err
    return fail(err instanceof Error ? err.message : String(err), err)
  }
}
