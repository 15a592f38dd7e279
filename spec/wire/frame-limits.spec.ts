/**
 * Frame constructors refuse integers that no encoder can write (unsafe integers, sample rates beyond the protobuf
 * uint32 fields) with the usual `TypeError` naming the field; the largest accepted values survive both formats.
 */
import { describe, expect, it } from 'vitest'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { FrameDecodeError } from '../../lib/wire/errors.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'

const audio = new Uint8Array(4)
const image = new Uint8Array(3)
const UINT32_MAX = 2 ** 32 - 1

describe('frame constructors refuse integers no encoder can write', () => {
  const cases: ReadonlyArray<[string, () => Frame, RegExp]> = [
    ['an image width of 1e16', () => Frames.imageRaw({ image, size: [1e16, 1] }), /imageRaw\.size\[0\] \(width\) must be a safe integer >= 0, got 10000000000000000/],
    ['an image height of 2^53', () => Frames.imageRaw({ image, size: [1, 2 ** 53] }), /imageRaw\.size\[1\] \(height\)/],
    ['a sample rate of 1e300', () => Frames.audioRaw({ audio, sampleRate: 1e300 }), /audioRaw\.sampleRate must be an integer from 1 to 4294967295, got 1e\+300/],
    ['a sample rate of 2^32', () => Frames.audioRaw({ audio, sampleRate: 2 ** 32 }), /audioRaw\.sampleRate/],
    ['a channel count of 2^40', () => Frames.audioRaw({ audio, numChannels: 2 ** 40 }), /audioRaw\.numChannels/],
    ['a sample width of 2^32', () => Frames.audioRaw({ audio, sampleWidth: 2 ** 32 }), /audioRaw\.sampleWidth/],
    ['a start input rate of 1e300', () => Frames.start({ audioInSampleRate: 1e300 }), /start\.audioInSampleRate/],
    ['a start output rate of 2^32', () => Frames.start({ audioOutSampleRate: 2 ** 32 }), /start\.audioOutSampleRate/],
    ['an id of 2^53', () => Frames.withIdentity(Frames.text('x'), 2 ** 53, 'TextFrame#0'), /Frames\.withIdentity\(id\) must be a safe integer >= 0, got 9007199254740992/],
    ['an id of 1e300', () => Frames.withIdentity(Frames.end(), 1e300, 'EndFrame#0'), /withIdentity\(id\)/],
  ]
  for (const [label, make, message] of cases) {
    it(`refuses ${label} with a TypeError naming the field`, () => {
      expect(make).toThrow(TypeError)
      expect(make).toThrow(message)
    })
  }

  it('accepts the largest values, and both wire formats carry them unchanged', () => {
    const pb = protobufSerializer()
    const json = jsonSerializer()
    const frames: Frame[] = [
      Frames.withIdentity(Frames.audioRaw({ audio, sampleRate: UINT32_MAX, numChannels: UINT32_MAX, sampleWidth: UINT32_MAX }), Number.MAX_SAFE_INTEGER, 'AudioRawFrame#9'),
      Frames.withIdentity(Frames.imageRaw({ image, size: [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] }), Number.MAX_SAFE_INTEGER, 'ImageRawFrame#9'),
    ]
    for (const frame of frames) {
      expect(pb.deserialize(pb.serialize(frame))).toEqual(frame)
      expect(json.deserialize(json.serialize(frame))).toEqual(frame)
    }
    const start = Frames.start({ audioInSampleRate: UINT32_MAX, audioOutSampleRate: UINT32_MAX })
    expect(json.deserialize(json.serialize(start))).toEqual(start)
  })

  it('JSON decoding refuses the same values with a FrameDecodeError', () => {
    const json = jsonSerializer()
    const good = JSON.parse(json.serialize(Frames.audioRaw({ audio }))) as Record<string, unknown>
    for (const sampleRate of [2 ** 32, 1e300, 2 ** 53]) {
      expect(() => json.deserialize(JSON.stringify({ ...good, sampleRate }))).toThrow(FrameDecodeError)
      expect(() => json.deserialize(JSON.stringify({ ...good, sampleRate }))).toThrow(/sampleRate must be an integer from 1 to 4294967295/)
    }
    const img = JSON.parse(json.serialize(Frames.imageRaw({ image, size: [1, 1] }))) as Record<string, unknown>
    expect(() => json.deserialize(JSON.stringify({ ...img, size: [1e16, 1] }))).toThrow(FrameDecodeError)
  })
})
