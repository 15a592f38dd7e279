/**
 * Fuzzing the decoders: random bytes, random strings and mutations of valid messages never throw anything but
 * FrameDecodeError, and whatever they accept is a well-formed frame that encodes again.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { FrameDecodeError } from '../../lib/wire/errors.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
import type { FrameSerializer } from '../../lib/wire/serializer.js'
import { arbAnyFrame, arbProtobufFrame } from './arb.js'

const pb = protobufSerializer()
const json = jsonSerializer()

/** Decodes `data`: returns the frame, or undefined after a FrameDecodeError; any other throw fails the property. */
function tryDecode(ser: FrameSerializer, data: Uint8Array | string): Frame | undefined {
  try {
    const frame = ser.deserialize(data)
    expect(Frames.isFrame(frame)).toBe(true)
    return frame
  } catch (err) {
    if (!(err instanceof FrameDecodeError)) throw new Error(`decoder threw ${String(err)}`, { cause: err })
    return undefined
  }
}

/** A byte array with random edits: flips, truncation, insertion. */
function mutate(bytes: Uint8Array, edits: ReadonlyArray<[number, number, number]>): Uint8Array {
  let out = Uint8Array.from(bytes)
  for (const [kind, at, value] of edits) {
    const i = out.length === 0 ? 0 : at % out.length
    if (kind === 0) out[i] = value
    else if (kind === 1) out = out.subarray(0, i)
    else {
      const next = new Uint8Array(out.length + 1)
      next.set(out.subarray(0, i))
      next[i] = value
      next.set(out.subarray(i), i + 1)
      out = next
    }
  }
  return out
}

const edits = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 0, max: 255 })), {
  minLength: 1,
  maxLength: 4,
})

describe('protobuf decoder fuzz', () => {
  it('random bytes: a frame or FrameDecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const frame = tryDecode(pb, bytes)
        if (frame !== undefined) expect(pb.supports(frame)).toBe(true)
      }),
      { numRuns: 3000 },
    )
  })

  it('mutated valid messages: a frame that re-encodes, or FrameDecodeError', () => {
    fc.assert(
      fc.property(arbProtobufFrame(), edits, (frame, e) => {
        const decoded = tryDecode(pb, mutate(pb.serialize(frame), e))
        if (decoded !== undefined) expect(pb.deserialize(pb.serialize(decoded))).toEqual(decoded)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('JSON decoder fuzz', () => {
  it('random bytes and strings: a frame or FrameDecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 200 })), (data) => {
        tryDecode(json, data)
      }),
      { numRuns: 2000 },
    )
  })

  it('random JSON objects with frame-like keys: a frame or FrameDecodeError', () => {
    const key = fc.constantFrom('kind', 'type', 'id', 'name', 'text', 'audio', 'data', 'size', '__proto__', 'constructor', 'fatal', 'error')
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('data', 'app', 'system', 'control', 'text', 'end', 'audioRaw', 'error', 'AAE=', 1, 0, -1),
    )
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 8 }), (obj) => {
        tryDecode(json, JSON.stringify(obj))
      }),
      { numRuns: 3000 },
    )
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('mutated valid messages: a frame or FrameDecodeError', () => {
    fc.assert(
      fc.property(arbAnyFrame(), edits, (frame, e) => {
        const bytes = new TextEncoder().encode(json.serialize(frame))
        tryDecode(json, mutate(bytes, e))
      }),
      { numRuns: 2000 },
    )
  })
})
