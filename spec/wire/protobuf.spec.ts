import { create, toBinary } from '@bufbuild/protobuf'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { FrameDecodeError, FrameEncodeError } from '../../lib/wire/errors.js'
import {
  AudioRawFrameSchema,
  FrameSchema,
  ImageRawFrameSchema,
  InterruptionFrameSchema,
  StartInterruptionFrameSchema,
  StopInterruptionFrameSchema,
  TextFrameSchema,
  type Frame as FrameMessage,
} from '../../lib/wire/gen/frames_pb.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
import { arbProtobufFrame } from './arb.js'
import { fromHex, GOLDEN, toHex } from './golden.js'

const ser = protobufSerializer()

/** What a protobuf round trip gives back: empty format and mode come back as null. */
function expectedAfterProtobuf(frame: Frame): Frame {
  if (frame.kind === 'data' && frame.type === 'imageRaw') {
    return { ...frame, format: frame.format === '' ? null : frame.format, mode: frame.mode === '' ? null : frame.mode }
  }
  return frame
}

/** The reference encoding of @bufbuild/protobuf's own writer, from the generated schema. */
function referenceEncode(frame: Frame): Uint8Array {
  if (frame.kind === 'app') throw new Error('not a protobuf frame')
  const id = BigInt(frame.id)
  const name = frame.name
  let msg: FrameMessage
  switch (frame.type) {
    case 'text':
      msg = create(FrameSchema, { frame: { case: 'text', value: create(TextFrameSchema, { id, name, text: frame.text }) } })
      break
    case 'audioRaw':
      msg = create(FrameSchema, {
        frame: {
          case: 'audio',
          value: create(AudioRawFrameSchema, {
            id,
            name,
            audio: frame.audio,
            sampleRate: frame.sampleRate,
            numChannels: frame.numChannels,
            sampleWidth: frame.sampleWidth,
          }),
        },
      })
      break
    case 'imageRaw':
      msg = create(FrameSchema, {
        frame: {
          case: 'image',
          value: create(ImageRawFrameSchema, {
            id,
            name,
            image: frame.image,
            size: `${frame.size[0]}x${frame.size[1]}`,
            format: frame.format ?? '',
            mode: frame.mode ?? '',
          }),
        },
      })
      break
    case 'interruption':
      msg = create(FrameSchema, { frame: { case: 'interruption', value: create(InterruptionFrameSchema, { id, name }) } })
      break
    case 'startInterruption':
      msg = create(FrameSchema, { frame: { case: 'startInterruption', value: create(StartInterruptionFrameSchema, { id, name }) } })
      break
    case 'stopInterruption':
      msg = create(FrameSchema, { frame: { case: 'stopInterruption', value: create(StopInterruptionFrameSchema, { id, name }) } })
      break
    default:
      throw new Error(`not a protobuf frame: ${frame.type}`)
  }
  return toBinary(FrameSchema, msg)
}

function decodeError(data: Uint8Array | string): FrameDecodeError {
  try {
    ser.deserialize(data)
  } catch (err) {
    expect(err).toBeInstanceOf(FrameDecodeError)
    return err as FrameDecodeError
  }
  throw new Error(`expected a FrameDecodeError for ${typeof data === 'string' ? data : toHex(data)}`)
}

describe('protobuf golden vectors (Python apipeline 0.2.12)', () => {
  for (const g of GOLDEN) {
    it(`encodes ${g.label} to exactly the Python bytes`, () => {
      expect(toHex(ser.serialize(g.make()))).toBe(g.hex)
    })
    it(`decodes the Python bytes of ${g.label} to the frame, id and name included`, () => {
      expect(ser.deserialize(fromHex(g.hex))).toEqual(g.make())
    })
  }
})

describe('protobuf encoder', () => {
  it('writes the same bytes as @bufbuild/protobuf toBinary for every frame type', () => {
    fc.assert(
      fc.property(arbProtobufFrame(), (frame) => {
        expect(toHex(ser.serialize(frame))).toBe(toHex(referenceEncode(frame)))
      }),
      { numRuns: 300 },
    )
  })

  it('round-trips every frame type with id and name', () => {
    fc.assert(
      fc.property(arbProtobufFrame(), (frame) => {
        expect(ser.deserialize(ser.serialize(frame))).toEqual(expectedAfterProtobuf(frame))
      }),
      { numRuns: 300 },
    )
  })

  it('leaves out null format and mode, like Python leaves out falsy fields', () => {
    const frame = Frames.withIdentity(Frames.imageRaw({ image: new Uint8Array(0), size: [0, 0] }), 3, 'I#0')
    // id 3, name "I#0", size "0x0": no image, format or mode field
    expect(toHex(ser.serialize(frame))).toBe('1a0c08031203492330220330783' + '0')
    expect(ser.deserialize(ser.serialize(frame))).toEqual(frame)
  })

  it('throws FrameEncodeError, naming the type, for frames the schema does not carry', () => {
    const unsupported: Frame[] = [
      Frames.start(),
      Frames.end(),
      Frames.cancel(),
      Frames.error('x'),
      Frames.metrics(),
      Frames.sync(),
      Frames.syncNotify(),
      Frames.stopTask(),
      Frames.interruptionTask(),
      Frames.app('transcript', { text: 'hi' }),
    ]
    for (const frame of unsupported) {
      expect(ser.supports(frame)).toBe(false)
      let caught: unknown
      try {
        ser.serialize(frame)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(FrameEncodeError)
      expect((caught as FrameEncodeError).frameType).toBe(frame.type)
      expect((caught as FrameEncodeError).format).toBe('protobuf')
    }
    expect(ser.supports(Frames.text('x'))).toBe(true)
    expect(ser.supports(Frames.interruption())).toBe(true)
  })

  it('throws FrameEncodeError for values the wire cannot hold', () => {
    expect(() => ser.serialize(Frames.text('lone \ud800 surrogate'))).toThrow(FrameEncodeError)
    expect(() => ser.serialize(Frames.withIdentity(Frames.text('ok'), 1, 'bad\udc00'))).toThrow(FrameEncodeError)
    expect(() => ser.serialize(Frames.audioRaw({ audio: new Uint8Array(2), sampleRate: 2 ** 32 }))).toThrow(/sampleRate/)
    const handMade = { ...Frames.audioRaw({ audio: new Uint8Array(2) }), audio: [1, 2] } as unknown as Frame
    expect(() => ser.serialize(handMade)).toThrow(FrameEncodeError)
    const negativeId = { ...Frames.text('x'), id: -1 } as Frame
    expect(() => ser.serialize(negativeId)).toThrow(/id/)
  })

  it('writes astral and accented text as UTF-8', () => {
    const frame = Frames.withIdentity(Frames.text('héllo 🎧'), 1, 'T#0')
    const bytes = ser.serialize(frame)
    expect(new TextDecoder().decode(bytes.subarray(bytes.length - 11))).toBe('héllo 🎧')
    expect(ser.deserialize(bytes)).toEqual(frame)
  })

  it('copies the audio once: the output does not share the frame buffer', () => {
    const audio = new Uint8Array(640).fill(7)
    const bytes = ser.serialize(Frames.audioRaw({ audio }))
    expect(bytes.buffer).not.toBe(audio.buffer)
    expect(bytes.byteLength).toBe(bytes.buffer.byteLength) // exact-size allocation
    audio.fill(9)
    expect((ser.deserialize(bytes) as { audio: Uint8Array }).audio.every((b) => b === 7)).toBe(true)
  })
})

describe('protobuf decoder choices', () => {
  it('gives audio without sample_rate, num_channels, sample_width the frame defaults 16000, 1, 2 (not 0)', () => {
    // AudioRawFrame { id: 9, audio: 0102 } only
    const frame = ser.deserialize(fromHex('1206' + '0809' + '1a020102'))
    expect(frame).toMatchObject({ type: 'audioRaw', id: 9, sampleRate: 16000, numChannels: 1, sampleWidth: 2, numFrames: 1 })
    // explicit zeros written by another encoder mean the same
    expect(ser.deserialize(fromHex('120c' + '0809' + '1a020102' + '2000' + '2800' + '3000'))).toMatchObject({
      sampleRate: 16000,
      numChannels: 1,
      sampleWidth: 2,
    })
  })

  it('gives a frame without id and name on the wire a fresh local identity', () => {
    const a = ser.deserialize(fromHex('0a03' + '1a0178')) // TextFrame { text: "x" }
    const b = ser.deserialize(fromHex('0a03' + '1a0178'))
    expect(a).toMatchObject({ type: 'text', text: 'x' })
    expect(a.id).toBeGreaterThan(0)
    expect(b.id).toBeGreaterThan(a.id)
    expect(a.name).toMatch(/^TextFrame#\d+$/)
    const withIdOnly = ser.deserialize(fromHex('0a02' + '0805'))
    expect(withIdOnly.id).toBe(5)
    expect(withIdOnly.name).toMatch(/^TextFrame#\d+$/)
  })

  it('decodes an empty format and mode as null and the size string into [width, height]', () => {
    const frame = ser.deserialize(fromHex('1a07' + '2205' + toHex(new TextEncoder().encode('640x4'))))
    expect(frame).toMatchObject({ type: 'imageRaw', size: [640, 4], format: null, mode: null })
  })

  it('keeps ids up to Number.MAX_SAFE_INTEGER and refuses larger ones', () => {
    const max = Frames.withIdentity(Frames.text('x'), Number.MAX_SAFE_INTEGER, 'T#0')
    expect(ser.deserialize(ser.serialize(max)).id).toBe(Number.MAX_SAFE_INTEGER)
    // id = 2^53 as a varint
    expect(decodeError(fromHex('0a09' + '0880808080808080' + '10')).message).toMatch(/MAX_SAFE_INTEGER/)
    // id = 2^64 - 1
    expect(decodeError(fromHex('0a0b' + '08ffffffffffffffffff01')).message).toMatch(/MAX_SAFE_INTEGER/)
  })

  it('shares the input buffer (no copy) by default, and copies with copyBytes', () => {
    const input = ser.serialize(Frames.audioRaw({ audio: new Uint8Array(640).fill(1) }))
    const shared = ser.deserialize(input) as { audio: Uint8Array }
    expect(shared.audio.buffer).toBe(input.buffer)
    input.fill(0) // the caller reusing its buffer changes the shared frame
    expect(shared.audio.every((b) => b === 0)).toBe(true)

    const input2 = ser.serialize(Frames.audioRaw({ audio: new Uint8Array(640).fill(1) }))
    const copied = protobufSerializer({ copyBytes: true }).deserialize(input2) as { audio: Uint8Array }
    expect(copied.audio.buffer).not.toBe(input2.buffer)
    input2.fill(0)
    expect(copied.audio.every((b) => b === 1)).toBe(true)
    expect(() => protobufSerializer({ copyBytes: 'yes' as unknown as boolean })).toThrow(TypeError)
  })

  it('accepts a Buffer, an ArrayBuffer, a DataView and an offset view; refuses strings and non-bytes', () => {
    const g = GOLDEN[0]!
    const bytes = fromHex(g.hex)
    const padded = new Uint8Array(bytes.length + 5)
    padded.set(bytes, 5)
    for (const input of [
      Buffer.from(bytes),
      bytes.buffer as ArrayBuffer,
      new DataView(padded.buffer, 5),
      padded.subarray(5),
    ]) {
      expect(ser.deserialize(input)).toEqual(g.make())
    }
    expect(decodeError('0a1c').message).toMatch(/string/)
    expect(() => ser.deserialize(42 as unknown as string)).toThrow(FrameDecodeError)
    expect(() => ser.deserialize(null as unknown as string)).toThrow(FrameDecodeError)
  })

  it('accepts the longest encodings upb and protoc accept: 5-byte tags and lengths, 10-byte values', () => {
    // text { id: 7 } with the tag, the length and the id each padded to their longest form.
    const frame = ser.deserialize(fromHex('8a80808000' + '8b80808000' + '08' + '87808080808080808000'))
    expect(frame).toMatchObject({ type: 'text', id: 7, text: '' })
    // A 5-byte tag and length, then a 10-byte sample_rate (a uint32 field: the high bits are dropped, as protoc does).
    const audio = ser.deserialize(fromHex('12' + '8b80808000' + '20' + 'c0be80808080808080' + '01'))
    expect(audio).toMatchObject({ type: 'audioRaw', sampleRate: 8000 })
  })

  it('skips unknown fields inside a frame and next to it', () => {
    // TextFrame { id 1, text "x", field 9 varint 5, field 10 fixed32 } + top-level field 50 (bytes)
    const frame = ser.deserialize(fromHex('0a0c' + '0801' + '1a0178' + '4805' + '5501020304' + '920302abcd'))
    expect(frame).toMatchObject({ type: 'text', id: 1, text: 'x' })
  })

  it('follows the proto3 rule for a message with two oneof members: the last one wins', () => {
    const frame = ser.deserialize(fromHex('0a03' + '1a0178' + 'a2060208' + '04'))
    expect(frame).toMatchObject({ type: 'interruption', id: 4 })
  })
})

describe('protobuf bad input: FrameDecodeError, never a crash', () => {
  it('refuses every strict prefix of every golden vector', () => {
    for (const g of GOLDEN) {
      const bytes = fromHex(g.hex)
      for (let n = 0; n < bytes.length; n++) decodeError(bytes.subarray(0, n))
    }
  })

  const cases: ReadonlyArray<[string, string, RegExp]> = [
    ['garbage', 'ffffffffff', /./],
    ['a varint longer than 10 bytes', '48' + 'ff'.repeat(11) + '01', /longer than 10 bytes/],
    ['a huge length prefix', '0affffffff0f', /length/],
    ['a huge length prefix inside a frame', '0a06' + '1affffffff0f', /length|bytes/],
    ['the oneof field sent as a varint', '0801', /wire type/],
    ['the text field sent as a varint', '0a02' + '1805', /wire type/],
    ['the id field sent as bytes', '0a03' + '0a0101', /wire type/],
    ['the audio field sent as fixed32', '1205' + '1d01020304', /wire type/],
    ['an unknown oneof member (field 4)', '2200', /no known frame.*4/],
    ['an unknown oneof member (field 103)', 'ba0600', /no known frame.*103/],
    ['an empty message', '', /empty/],
    ['field number 0', '0001', /field number 0/],
    ['wire type 7', '0f', /wire type 7/],
    ['a stray end-group tag', '0c', /end-group/],
    ['an unterminated group', '4b0801', /truncated/],
    ['text that is not UTF-8', '0a03' + '1a01ff', /utf-8/i],
    ['a name that is not UTF-8', '0a04' + '1202c328', /utf-8/i],
    ['an image without size', '1a02' + '0801', /size/],
    // Tags and length prefixes are 32-bit varints: upb and protoc refuse them beyond 5 bytes, even with a small value.
    ['a length prefix of 6 bytes (value 0)', '0a808080808000', /length of text at byte 1 is longer than 5 bytes/],
    ['a length prefix of 10 bytes (value 0)', '0a' + '80'.repeat(9) + '00', /longer than 5 bytes/],
    ['a length prefix of 6 bytes inside a frame', '0a07' + '1a808080808000', /length of field 3 at byte 3 is longer than 5 bytes/],
    ['a tag of 6 bytes', '8a808080800000', /tag at byte 0 is longer than 5 bytes/],
    ['a tag above 2^32 - 1 in 5 bytes', '8a8080801000', /tag at byte 0 is above 2\^32 - 1/],
    ['a tag of 6 bytes inside a frame', '0a07' + '9a8080808000' + '00', /tag at byte 2 is longer than 5 bytes/],
    ['a length prefix of 2^31 - 1', '0affffffff07', /2\^31 - 1 or more/],
  ]
  for (const [label, hex, pattern] of cases) {
    it(`refuses ${label}`, () => {
      expect(decodeError(fromHex(hex)).message).toMatch(pattern)
    })
  }

  for (const size of ['1920', 'x', '1920x', 'x1080', '-1x2', '1920X1080', ' 1x2', '1x2 ', '1x2x3', '1e3x2', '99999999999999999x1', '+1x2']) {
    it(`refuses the image size ${JSON.stringify(size)}`, () => {
      const s = new TextEncoder().encode(size)
      const body = '22' + s.length.toString(16).padStart(2, '0') + toHex(s)
      const msg = '1a' + (body.length / 2).toString(16).padStart(2, '0') + body
      expect(decodeError(fromHex(msg)).message).toMatch(/size/)
    })
  }
})
