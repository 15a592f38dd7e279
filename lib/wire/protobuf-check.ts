/**
 * A strict structural check of protobuf bytes against a message descriptor, run before decoding.
 *
 * `fromBinary` trusts that a known field arrives with the wire type its declaration implies; this check makes
 * sure it does (a mismatch is an error here, where the C++ and Python runtimes would keep the field as unknown),
 * that every length prefix and varint stays inside its enclosing message, that tags and length prefixes are at most
 * 5 bytes long and other varints at most 10 (exactly what upb and protoc accept), and that nesting stays bounded.
 * Unknown field numbers with a valid wire type are allowed (they are skipped, as proto3 requires).
 * @module
 */
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf'

const VARINT = 0
const BIT64 = 1
const LEN = 2
const START_GROUP = 3
const END_GROUP = 4
const BIT32 = 5
const MAX_DEPTH = 32
/** A varint holds at most 64 bits: 10 bytes. */
const MAX_VARINT_BYTES = 10
/** Tags and length prefixes are 32-bit varints: 5 bytes at most (longer ones are refused by upb and protoc). */
const MAX_TAG_BYTES = 5
const MAX_LENGTH_BYTES = 5
const MAX_TAG = 0xffff_ffff
/** upb refuses lengths of INT32_MAX and more. */
const MAX_LENGTH = 0x7fff_ffff

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'start-group', 'end-group', '32-bit', '6', '7']

/** Thrown by {@link checkWire}: a human-readable description of what is wrong, with the byte offset. */
export class WireCheckError extends Error {
  override readonly name = 'WireCheckError'
}

function expectedWireType(field: DescField): number {
  if (field.fieldKind === 'message') return LEN
  if (field.fieldKind !== 'scalar') return -1
  switch (field.scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return LEN
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return BIT64
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return BIT32
    default:
      return VARINT
  }
}

class Cursor {
  pos = 0
  constructor(readonly buf: Uint8Array) {}

  /**
   * Reads a varint of at most `maxBytes` bytes that must end before `end`; returns its value (exact up to 2^53,
   * which covers every value this check compares).
   */
  varint(end: number, what: string, maxBytes = MAX_VARINT_BYTES): number {
    const start = this.pos
    let value = 0
    let scale = 1
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= end) throw new WireCheckError(`truncated ${what} at byte ${start}`)
      const b = this.buf[this.pos++] as number
      value += (b & 0x7f) * scale
      scale *= 0x80
      if (b < 0x80) return value
    }
    throw new WireCheckError(`${what} at byte ${start} is longer than ${maxBytes} bytes`)
  }

  /** Reads a tag: at most 5 bytes and at most 2^32 - 1, as upb and protoc require. */
  tag(end: number, what: string): number {
    const at = this.pos
    const tag = this.varint(end, what, MAX_TAG_BYTES)
    if (tag > MAX_TAG) throw new WireCheckError(`${what} at byte ${at} is above 2^32 - 1`)
    return tag
  }

  /** Reads a length prefix: at most 5 bytes and below 2^31 - 1, as upb and protoc require. */
  length(end: number, what: string): number {
    const at = this.pos
    const len = this.varint(end, what, MAX_LENGTH_BYTES)
    if (len >= MAX_LENGTH) throw new WireCheckError(`${what} at byte ${at} is 2^31 - 1 or more`)
    return len
  }

  /** Moves past `n` bytes that must end before `end`. */
  advance(n: number, end: number, what: string): void {
    if (n > end - this.pos) {
      throw new WireCheckError(`${what} at byte ${this.pos} needs ${n} bytes, only ${end - this.pos} left`)
    }
    this.pos += n
  }
}

function skipValue(c: Cursor, wireType: number, fieldNo: number, end: number, depth: number): void {
  switch (wireType) {
    case VARINT:
      c.varint(end, `varint of field ${fieldNo}`)
      return
    case BIT64:
      c.advance(8, end, `64-bit value of field ${fieldNo}`)
      return
    case BIT32:
      c.advance(4, end, `32-bit value of field ${fieldNo}`)
      return
    case LEN:
      c.advance(c.length(end, `length of field ${fieldNo}`), end, `field ${fieldNo}`)
      return
    case START_GROUP: {
      if (depth >= MAX_DEPTH) throw new WireCheckError(`groups nested deeper than ${MAX_DEPTH}`)
      for (;;) {
        const at = c.pos
        const tag = c.tag(end, `tag in group ${fieldNo}`)
        const no = Math.floor(tag / 8)
        const wt = tag % 8
        if (wt === END_GROUP) {
          if (no !== fieldNo) throw new WireCheckError(`end-group tag at byte ${at} closes field ${no}, expected ${fieldNo}`)
          return
        }
        checkTag(no, wt, at)
        skipValue(c, wt, no, end, depth + 1)
      }
    }
    default:
      throw new WireCheckError(`unexpected ${WIRE_NAMES[wireType] ?? wireType} wire type of field ${fieldNo}`)
  }
}

function checkTag(fieldNo: number, wireType: number, at: number): void {
  if (fieldNo < 1 || fieldNo > 0x1fff_ffff) throw new WireCheckError(`invalid field number ${fieldNo} at byte ${at}`)
  if (wireType > BIT32) throw new WireCheckError(`invalid wire type ${wireType} at byte ${at}`)
}

const fieldMaps = new WeakMap<DescMessage, Map<number, DescField>>()

function fieldsOf(desc: DescMessage): Map<number, DescField> {
  let map = fieldMaps.get(desc)
  if (map === undefined) {
    map = new Map(desc.fields.map((f) => [f.number, f]))
    fieldMaps.set(desc, map)
  }
  return map
}

function checkMessage(c: Cursor, desc: DescMessage, end: number, depth: number, unknown: number[] | undefined): void {
  if (depth > MAX_DEPTH) throw new WireCheckError(`messages nested deeper than ${MAX_DEPTH}`)
  while (c.pos < end) {
    const at = c.pos
    const tag = c.tag(end, 'tag')
    const fieldNo = Math.floor(tag / 8)
    const wireType = tag % 8
    checkTag(fieldNo, wireType, at)
    if (wireType === END_GROUP) throw new WireCheckError(`unexpected end-group tag at byte ${at}`)
    const field = fieldsOf(desc).get(fieldNo)
    if (field === undefined) {
      unknown?.push(fieldNo)
      skipValue(c, wireType, fieldNo, end, depth)
      continue
    }
    const expected = expectedWireType(field)
    if (wireType !== expected) {
      throw new WireCheckError(
        `field ${field.name} (${fieldNo}) of ${desc.name} at byte ${at} has the ${WIRE_NAMES[wireType]} wire type, expected ${WIRE_NAMES[expected] ?? 'none'}`,
      )
    }
    if (field.fieldKind === 'message') {
      const len = c.length(end, `length of ${field.name}`)
      if (len > end - c.pos) {
        throw new WireCheckError(`length ${len} of ${field.name} at byte ${at} runs past the end (${end - c.pos} bytes left)`)
      }
      checkMessage(c, field.message, c.pos + len, depth + 1, undefined)
    } else {
      skipValue(c, wireType, fieldNo, end, depth)
    }
  }
}

/**
 * Checks that `bytes` is a well-formed encoding of `desc`: known fields have their declared wire type, every
 * length and varint fits, nesting is bounded. Throws a {@link WireCheckError}; returns the field numbers of unknown
 * top-level fields (skipped by the decoder).
 * @example
 * ```ts
 * import { FrameSchema } from './gen/frames_pb.js'
 *
 * checkWire(FrameSchema, new Uint8Array([0x0a, 0x02, 0x18, 0x05])) // throws: text field 3 sent as a varint
 * ```
 */
export function checkWire(desc: DescMessage, bytes: Uint8Array): number[] {
  const unknown: number[] = []
  checkMessage(new Cursor(bytes), desc, bytes.length, 0, unknown)
  return unknown
}
