import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { decodeEither, encodeEither, FrameDecodeError, FrameEncodeError, Frames, jsonSerializer, protobufSerializer } from '../../lib/index.js'

describe('Either wire functions', () => {
  const pb = protobufSerializer()

  it('decodeEither gives Right(frame) for a good message and Left(FrameDecodeError) for garbage', () => {
    const frame = Frames.text('hi')
    const decode = decodeEither(pb)
    const good = decode(pb.serialize(frame))
    expect(E.isRight(good) && good.right).toMatchObject({ type: 'text', text: 'hi', id: frame.id, name: frame.name })
    const bad = decode(new Uint8Array([0x0a, 0xff]))
    expect(E.isLeft(bad) && bad.left).toBeInstanceOf(FrameDecodeError)
  })

  it('encodeEither gives Left(FrameEncodeError) for a frame the format cannot carry', () => {
    const encode = encodeEither(pb)
    expect(pipe(encode(Frames.end()), E.match((e) => e instanceof FrameEncodeError, () => false))).toBe(true)
    expect(E.isRight(encodeEither(jsonSerializer())(Frames.end()))).toBe(true)
  })

  it('lets other exceptions through', () => {
    const broken = { format: 'x', supports: () => true, serialize: () => { throw new RangeError('bug') }, deserialize: () => { throw new RangeError('bug') } }
    expect(() => decodeEither(broken)('x')).toThrow(RangeError)
    expect(() => encodeEither(broken)(Frames.end())).toThrow(RangeError)
  })
})
