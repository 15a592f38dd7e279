/**
 * The protobuf encoder: writes a frame as a `pipeline_frames.Frame` message (proto/frames.proto) into one buffer
 * of the exact size, so payload bytes (audio, image) are copied once. Field numbers come from the generated
 * descriptors. Like the Python encoder (and proto3 implicit presence), fields with a zero value — `0`, `""`,
 * empty bytes, `null` — are left out, so the output is byte-for-byte what Python writes.
 * @module
 */
import type { DescMessage } from '@bufbuild/protobuf'
import { describe } from '../frames/validate.js'
import type { Frame } from '../frames/types.js'
import { FrameEncodeError } from './errors.js'
import {
  AudioRawFrameSchema,
  FrameSchema,
  ImageRawFrameSchema,
  InterruptionFrameSchema,
  StartInterruptionFrameSchema,
  StopInterruptionFrameSchema,
  TextFrameSchema,
} from './gen/frames_pb.js'
import { utf8Length, writeUtf8 } from './utf8.js'

const FORMAT = 'protobuf'
const VARINT = 0
const LEN = 2
const UINT32_MAX = 0xffff_ffff

function fieldNumber(desc: DescMessage, localName: string): number {
  const field = desc.field[localName]
  if (field === undefined) throw new Error(`proto/frames.proto: ${desc.typeName} has no field ${localName}`)
  return field.number
}

/** The field numbers used by the encoder, read from the generated descriptors. */
const N = {
  text: {
    oneof: fieldNumber(FrameSchema, 'text'),
    id: fieldNumber(TextFrameSchema, 'id'),
    name: fieldNumber(TextFrameSchema, 'name'),
    text: fieldNumber(TextFrameSchema, 'text'),
  },
  audio: {
    oneof: fieldNumber(FrameSchema, 'audio'),
    id: fieldNumber(AudioRawFrameSchema, 'id'),
    name: fieldNumber(AudioRawFrameSchema, 'name'),
    audio: fieldNumber(AudioRawFrameSchema, 'audio'),
    sampleRate: fieldNumber(AudioRawFrameSchema, 'sampleRate'),
    numChannels: fieldNumber(AudioRawFrameSchema, 'numChannels'),
    sampleWidth: fieldNumber(AudioRawFrameSchema, 'sampleWidth'),
  },
  image: {
    oneof: fieldNumber(FrameSchema, 'image'),
    id: fieldNumber(ImageRawFrameSchema, 'id'),
    name: fieldNumber(ImageRawFrameSchema, 'name'),
    image: fieldNumber(ImageRawFrameSchema, 'image'),
    size: fieldNumber(ImageRawFrameSchema, 'size'),
    format: fieldNumber(ImageRawFrameSchema, 'format'),
    mode: fieldNumber(ImageRawFrameSchema, 'mode'),
  },
  interruption: {
    oneof: fieldNumber(FrameSchema, 'interruption'),
    id: fieldNumber(InterruptionFrameSchema, 'id'),
    name: fieldNumber(InterruptionFrameSchema, 'name'),
  },
  startInterruption: {
    oneof: fieldNumber(FrameSchema, 'startInterruption'),
    id: fieldNumber(StartInterruptionFrameSchema, 'id'),
    name: fieldNumber(StartInterruptionFrameSchema, 'name'),
  },
  stopInterruption: {
    oneof: fieldNumber(FrameSchema, 'stopInterruption'),
    id: fieldNumber(StopInterruptionFrameSchema, 'id'),
    name: fieldNumber(StopInterruptionFrameSchema, 'name'),
  },
} as const

/** The frame types the protobuf format carries. */
export const PROTOBUF_TYPES: ReadonlySet<string> = new Set([
  'text',
  'audioRaw',
  'imageRaw',
  'interruption',
  'startInterruption',
  'stopInterruption',
])

// ---------------------------------------------------------------- sizes

function varintSize(v: number): number {
  let n = 1
  while (v >= 0x80) {
    v = Math.floor(v / 0x80)
    n++
  }
  return n
}

const tagSize = (no: number): number => varintSize(no * 8)
const varintFieldSize = (no: number, v: number): number => (v === 0 ? 0 : tagSize(no) + varintSize(v))
const lenFieldSize = (no: number, len: number): number => (len === 0 ? 0 : tagSize(no) + varintSize(len) + len)

// ---------------------------------------------------------------- writing

function writeVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v % 0x80) | 0x80
    v = Math.floor(v / 0x80)
  }
  out[pos++] = v
  return pos
}

const writeTag = (out: Uint8Array, pos: number, no: number, wireType: number): number =>
  writeVarint(out, pos, no * 8 + wireType)

function writeVarintField(out: Uint8Array, pos: number, no: number, v: number): number {
  if (v === 0) return pos
  return writeVarint(out, writeTag(out, pos, no, VARINT), v)
}

function writeStringField(out: Uint8Array, pos: number, no: number, s: string, byteLength: number): number {
  if (byteLength === 0) return pos
  pos = writeVarint(out, writeTag(out, pos, no, LEN), byteLength)
  return writeUtf8(s, byteLength, out, pos)
}

function writeBytesField(out: Uint8Array, pos: number, no: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return pos
  pos = writeVarint(out, writeTag(out, pos, no, LEN), bytes.length)
  out.set(bytes, pos)
  return pos + bytes.length
}

// ---------------------------------------------------------------- checks

function fail(frame: Frame, message: string): never {
  throw new FrameEncodeError(FORMAT, String(frame.type), message)
}

function checkId(frame: Frame): number {
  const id: unknown = frame.id
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    fail(frame, `id must be a non-negative safe integer, got ${describe(id)}`)
  }
  return id
}

function checkUint32(frame: Frame, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UINT32_MAX) {
    fail(frame, `${field} must be an integer in [0, ${UINT32_MAX}], got ${describe(v)}`)
  }
  return v
}

/** UTF-8 length of a string field; `null` counts as absent. */
function checkString(frame: Frame, field: string, v: unknown, nullable = false): number {
  if (v === null && nullable) return 0
  if (typeof v !== 'string') fail(frame, `${field} must be a string${nullable ? ' or null' : ''}, got ${describe(v)}`)
  const n = utf8Length(v)
  if (n < 0) fail(frame, `${field} is not well-formed Unicode (lone surrogate); protobuf strings are UTF-8`)
  return n
}

function checkBytes(frame: Frame, field: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(frame, `${field} must be a Uint8Array, got ${describe(v)}`)
  return v
}

// ---------------------------------------------------------------- frames

/** Allocates the message for one oneof member whose body is `bodySize` bytes; returns it and the body offset. */
function frameBuffer(oneof: number, bodySize: number): [Uint8Array, number] {
  const out = new Uint8Array(tagSize(oneof) + varintSize(bodySize) + bodySize)
  const pos = writeVarint(out, writeTag(out, 0, oneof, LEN), bodySize)
  return [out, pos]
}

function encodeHeaderOnly(frame: Frame, n: { oneof: number; id: number; name: number }): Uint8Array {
  const id = checkId(frame)
  const nameLen = checkString(frame, 'name', frame.name)
  const [out, start] = frameBuffer(n.oneof, varintFieldSize(n.id, id) + lenFieldSize(n.name, nameLen))
  writeStringField(out, writeVarintField(out, start, n.id, id), n.name, frame.name, nameLen)
  return out
}

/**
 * Encodes one frame as a `pipeline_frames.Frame` message. Throws a {@link FrameEncodeError} for a frame type the
 * schema does not carry, or a field value it cannot hold.
 * @example
 * ```ts
 * encodeProtobuf(Frames.text('hi')) // Uint8Array [0x0a, …]
 * ```
 */
export function encodeProtobuf(frame: Frame): Uint8Array {
  if (frame === null || typeof frame !== 'object') {
    throw new FrameEncodeError(FORMAT, 'unknown', `a frame must be an object, got ${describe(frame)}`)
  }
  if (frame.kind === 'app') fail(frame, 'app frames are not part of the protobuf schema (use the JSON format)')
  switch (frame.type) {
    case 'text': {
      const n = N.text
      const id = checkId(frame)
      const nameLen = checkString(frame, 'name', frame.name)
      const textLen = checkString(frame, 'text', frame.text)
      const body = varintFieldSize(n.id, id) + lenFieldSize(n.name, nameLen) + lenFieldSize(n.text, textLen)
      const [out, start] = frameBuffer(n.oneof, body)
      let pos = writeVarintField(out, start, n.id, id)
      pos = writeStringField(out, pos, n.name, frame.name, nameLen)
      writeStringField(out, pos, n.text, frame.text, textLen)
      return out
    }
    case 'audioRaw': {
      const n = N.audio
      const id = checkId(frame)
      const nameLen = checkString(frame, 'name', frame.name)
      const audio = checkBytes(frame, 'audio', frame.audio)
      const rate = checkUint32(frame, 'sampleRate', frame.sampleRate)
      const channels = checkUint32(frame, 'numChannels', frame.numChannels)
      const width = checkUint32(frame, 'sampleWidth', frame.sampleWidth)
      const body =
        varintFieldSize(n.id, id) +
        lenFieldSize(n.name, nameLen) +
        lenFieldSize(n.audio, audio.length) +
        varintFieldSize(n.sampleRate, rate) +
        varintFieldSize(n.numChannels, channels) +
        varintFieldSize(n.sampleWidth, width)
      const [out, start] = frameBuffer(n.oneof, body)
      let pos = writeVarintField(out, start, n.id, id)
      pos = writeStringField(out, pos, n.name, frame.name, nameLen)
      pos = writeBytesField(out, pos, n.audio, audio)
      pos = writeVarintField(out, pos, n.sampleRate, rate)
      pos = writeVarintField(out, pos, n.numChannels, channels)
      writeVarintField(out, pos, n.sampleWidth, width)
      return out
    }
    case 'imageRaw': {
      const n = N.image
      const id = checkId(frame)
      const nameLen = checkString(frame, 'name', frame.name)
      const image = checkBytes(frame, 'image', frame.image)
      const size: unknown = frame.size
      if (!Array.isArray(size) || size.length !== 2) fail(frame, `size must be [width, height], got ${describe(size)}`)
      const w: unknown = size[0]
      const h: unknown = size[1]
      if (typeof w !== 'number' || !Number.isSafeInteger(w) || w < 0 || typeof h !== 'number' || !Number.isSafeInteger(h) || h < 0) {
        fail(frame, `size must hold two non-negative integers, got [${describe(w)}, ${describe(h)}]`)
      }
      const sizeText = `${w}x${h}`
      const sizeLen = sizeText.length
      const formatLen = checkString(frame, 'format', frame.format, true)
      const modeLen = checkString(frame, 'mode', frame.mode, true)
      const body =
        varintFieldSize(n.id, id) +
        lenFieldSize(n.name, nameLen) +
        lenFieldSize(n.image, image.length) +
        lenFieldSize(n.size, sizeLen) +
        lenFieldSize(n.format, formatLen) +
        lenFieldSize(n.mode, modeLen)
      const [out, start] = frameBuffer(n.oneof, body)
      let pos = writeVarintField(out, start, n.id, id)
      pos = writeStringField(out, pos, n.name, frame.name, nameLen)
      pos = writeBytesField(out, pos, n.image, image)
      pos = writeStringField(out, pos, n.size, sizeText, sizeLen)
      pos = writeStringField(out, pos, n.format, frame.format ?? '', formatLen)
      writeStringField(out, pos, n.mode, frame.mode ?? '', modeLen)
      return out
    }
    case 'interruption':
      return encodeHeaderOnly(frame, N.interruption)
    case 'startInterruption':
      return encodeHeaderOnly(frame, N.startInterruption)
    case 'stopInterruption':
      return encodeHeaderOnly(frame, N.stopInterruption)
    default:
      return fail(
        frame,
        'the protobuf schema carries only text, audioRaw, imageRaw, interruption, startInterruption and stopInterruption frames',
      )
  }
}
