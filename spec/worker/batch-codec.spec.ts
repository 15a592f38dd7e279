/**
 * The compact batch form between a worker-thread stage and its threads: audio frames as rows of numbers with their
 * bytes moved, other frames as records; every frame kind round-trips with its identity, and malformed batches are typed
 * errors naming the problem (no threads needed).
 */
import { describe, expect, it } from 'vitest'
import { Frames, uninterruptible, type Frame } from '../../lib/index.js'
import { decodeOutputs, encodedCount, encodeFrames, EncodedFramesReader, OutputsWriter, type EncodedFrames, type EncodedOutputs } from '../../lib/worker/batch-codec.js'
import { FrameRecordError } from '../../lib/worker/frame-transfer.js'
import { everyKind } from './helpers.js'

/** Sends `value` through a structured clone with `transfer` moved, as `postMessage` does. */
function post<T>(value: T, transfer: Set<ArrayBuffer>): T {
  return structuredClone(value, { transfer: [...transfer] })
}

const fields = (f: Frame): Record<string, unknown> => {
  const { id: _id, name: _name, ...rest } = f as unknown as Record<string, unknown>
  return rest
}

/** A request for `frames` as a thread receives it. */
function request(frames: readonly Frame[], move: boolean): EncodedFrames {
  const transfer = new Set<ArrayBuffer>()
  return post(encodeFrames(frames, move, transfer), transfer)
}

describe('batch codec: frames to a thread', () => {
  it('every frame kind arrives with the same fields and the identity it has on the sending side', () => {
    const frames = everyKind()
    const expected = frames.map((f) => ({ id: f.id, name: f.name, ...structuredClone(fields(f)) }))
    const reader = new EncodedFramesReader(request(frames, true))
    expect(reader.count).toBe(frames.length)
    const back = frames.map((_, i) => reader.frame(i))
    expect(back.map((f) => ({ id: f.id, name: f.name, ...fields(f) }))).toEqual(expected)
  })

  it('moves the buffers of audio spanning them whole (detached here), copies views into larger buffers', () => {
    const whole = Frames.audioRaw({ audio: new Uint8Array([1, 2, 3, 4]) })
    const slab = new ArrayBuffer(64)
    const view = Frames.audioRaw({ audio: new Uint8Array(slab, 8, 4).fill(7) })
    const transfer = new Set<ArrayBuffer>()
    const encoded = encodeFrames([whole, view], true, transfer)
    expect(transfer.has(whole.audio.buffer as ArrayBuffer)).toBe(true)
    expect(transfer.has(slab)).toBe(false)
    const arrived = new EncodedFramesReader(post(encoded, transfer))
    expect(whole.audio.byteLength).toBe(0) // moved
    expect(slab.byteLength).toBe(64) // untouched
    expect([...(arrived.frame(0) as { audio: Uint8Array }).audio]).toEqual([1, 2, 3, 4])
    expect([...(arrived.frame(1) as { audio: Uint8Array }).audio]).toEqual([7, 7, 7, 7])
  })

  it('copies with move false: nothing of the sender is detached', () => {
    const frame = Frames.audioRaw({ audio: new Uint8Array([5, 6]) })
    const reader = new EncodedFramesReader(request([frame], false))
    expect(frame.audio.byteLength).toBe(2)
    expect([...(reader.frame(0) as { audio: Uint8Array }).audio]).toEqual([5, 6])
  })

  it('an audio frame that does not fit a row (uninterruptible, a line feed in its name) travels as a record', () => {
    const marked = uninterruptible(Frames.audioRaw({ audio: new Uint8Array([1, 2]) }))
    const named = { ...Frames.audioRaw({ audio: new Uint8Array([3, 4]) }), name: 'odd\nname' }
    const plain = Frames.audioRaw({ audio: new Uint8Array([5, 6]) })
    const encoded = request([marked, named, plain], false)
    expect(encoded.records).toHaveLength(2)
    const reader = new EncodedFramesReader(encoded)
    expect([0, 1, 2].map((i) => reader.frame(i).name)).toEqual([marked.name, 'odd\nname', plain.name])
  })

  it('an uninterruptible frame of any kind stays uninterruptible on the other side, an ordinary one stays ordinary', () => {
    const frames = [
      uninterruptible(Frames.audioRaw({ audio: new Uint8Array([1, 2]) })),
      uninterruptible(Frames.text('keep me')),
      uninterruptible(Frames.app('note', { n: 1 })),
      Frames.text('ordinary'),
    ]
    const reader = new EncodedFramesReader(request(frames, true))
    const back = frames.map((_, i) => reader.frame(i))
    expect(back.map((f) => f.uninterruptible === true)).toEqual([true, true, true, false])
    expect(back.map((f) => f.id)).toEqual(frames.map((f) => f.id))
  })
})

describe('batch codec: outputs back from a thread', () => {
  function reply(per: readonly (readonly Frame[] | number)[], inputs: readonly Frame[], same: (out: Frame, input: Frame) => boolean): EncodedOutputs {
    const writer = new OutputsWriter()
    const transfer = new Set<ArrayBuffer>()
    per.forEach((outputs, i) => {
      if (typeof outputs === 'number') writer.other(outputs)
      else
        writer.outputs(
          outputs,
          outputs.map((o) => same(o, inputs[i] as Frame)),
          transfer,
        )
    })
    return post(writer.finish(transfer), transfer)
  }

  it('every frame kind comes back; an output that is its input keeps its identity, the others get a fresh one', () => {
    const inputs = [Frames.audioRaw({ audio: new Uint8Array([1, 2]) }), Frames.text('x'), Frames.audioRaw({ audio: new Uint8Array([3, 4]) })]
    const fresh = everyKind()
    const expectedFresh = fresh.map((f) => structuredClone(fields(f)))
    const inputFields = inputs.map((f) => structuredClone(fields(f)))
    const decoded = decodeOutputs(reply([[inputs[0] as Frame, ...fresh], 3, [inputs[2] as Frame]], inputs, (o, i) => o === i), inputs)
    expect(decoded).toHaveLength(3)
    const first = decoded[0] as { frames: Frame[] }
    expect([first.frames[0]?.id, first.frames[0]?.name]).toEqual([inputs[0]?.id, inputs[0]?.name])
    expect(fields(first.frames[0] as Frame)).toEqual(inputFields[0])
    expect(first.frames.slice(1).map(fields)).toEqual(expectedFresh)
    for (const [i, f] of first.frames.slice(1).entries()) expect(f.id).not.toBe(fresh[i]?.id)
    expect(decoded[1]).toEqual({ other: 3 })
    const third = decoded[2] as { frames: Frame[] }
    expect([third.frames[0]?.id, fields(third.frames[0] as Frame)]).toEqual([inputs[2]?.id, inputFields[2]])
  })

  it('an output a thread marked uninterruptible comes back marked', () => {
    const inputs = [Frames.audioRaw({ audio: new Uint8Array([1, 2]) }), Frames.text('x')]
    const outputs = [[uninterruptible(inputs[0] as Frame)], [uninterruptible(Frames.text('y')), Frames.text('z')]]
    const decoded = decodeOutputs(reply(outputs, inputs, (o, i) => o === i), inputs) as { frames: Frame[] }[]
    expect(decoded.map((d) => d.frames.map((f) => f.uninterruptible === true))).toEqual([[true], [true, false]])
  })

  it('a frame with no outputs gets an empty list', () => {
    const inputs = [Frames.text('a')]
    expect(decodeOutputs(reply([[]], inputs, () => false), inputs)).toEqual([{ frames: [] }])
  })

  it('an output that is not a valid frame fails its input only, as a FrameRecordError naming the field', () => {
    const inputs = [Frames.audioRaw({ audio: new Uint8Array(2) }), Frames.audioRaw({ audio: new Uint8Array(2) })]
    const bad = { ...Frames.audioRaw({ audio: new Uint8Array(2) }), sampleRate: 0 }
    const decoded = decodeOutputs(reply([[bad], [inputs[1] as Frame]], inputs, (o, i) => o === i), inputs)
    const invalid = (decoded[0] as { invalid: FrameRecordError }).invalid
    expect(invalid).toBeInstanceOf(FrameRecordError)
    expect(invalid.message).toMatch(/audioRaw\.sampleRate/)
    expect((decoded[1] as { frames: Frame[] }).frames[0]?.id).toBe(inputs[1]?.id)
  })
})

describe('batch codec: malformed data is a typed error', () => {
  const frames = [Frames.audioRaw({ audio: new Uint8Array(4) }), Frames.text('t')]
  const good = (): EncodedFrames => request(frames, false)
  const rows = (batch: EncodedFrames): Float64Array => new Float64Array(batch.head)

  it('a batch whose rows are not whole, or that lacks its parts, cannot be read', () => {
    expect(() => new EncodedFramesReader({ ...good(), head: new ArrayBuffer(20) })).toThrow(FrameRecordError)
    expect(() => new EncodedFramesReader({ ...good(), head: 'rows' as unknown as ArrayBuffer })).toThrow(/not a batch of frames/)
    expect(() => new EncodedFramesReader({ ...good(), bytes: undefined as unknown as Uint8Array[] })).toThrow(FrameRecordError)
    expect(() => encodedCount(null as unknown as EncodedFrames)).toThrow(FrameRecordError)
  })

  it('a row with an unknown code, a reference out of range or a bad field fails that frame only', () => {
    const unknownCode = good()
    rows(unknownCode)[0] = 9
    expect(() => new EncodedFramesReader(unknownCode).frame(0)).toThrow(/code 9/)
    expect(new EncodedFramesReader(unknownCode).frame(1).type).toBe('text')

    const outOfRange = good()
    rows(outOfRange)[2] = 5
    expect(() => new EncodedFramesReader(outOfRange).frame(0)).toThrow(/audio 5 of 1/)

    const badRate = good()
    rows(badRate)[3] = 1.5
    expect(() => new EncodedFramesReader(badRate).frame(0)).toThrow(FrameRecordError)
    expect(() => new EncodedFramesReader(badRate).frame(0)).toThrow(/audioRaw\.sampleRate/)

    const badId = good()
    rows(badId)[1] = -1
    expect(() => new EncodedFramesReader(badId).frame(0)).toThrow(/identity/)

    const notBytes = { ...good(), bytes: ['nope'] as unknown as Uint8Array[] }
    expect(() => new EncodedFramesReader(notBytes).frame(0)).toThrow(/Uint8Array/)

    const missingRecord = { ...good(), records: [] }
    expect(() => new EncodedFramesReader(missingRecord).frame(1)).toThrow(/record 0 of 0/)
  })

  it('outcomes that do not add up to the frames sent cannot be read', () => {
    const inputs = [Frames.text('a'), Frames.text('b')]
    const writer = new OutputsWriter()
    writer.outputs([], [], new Set())
    const short = writer.finish(new Set())
    expect(() => decodeOutputs(short, inputs)).toThrow(/1 of 2 frames answered/)
    const extra: EncodedOutputs = { head: new Float64Array([0, 0, 0]).buffer, bytes: [], records: [] }
    expect(() => decodeOutputs(extra, inputs)).toThrow(/left over/)
    const negative: EncodedOutputs = { head: new Float64Array([-2, 0]).buffer, bytes: [], records: [] }
    expect(() => decodeOutputs(negative, inputs)).toThrow(FrameRecordError)
    expect(() => decodeOutputs({ head: new ArrayBuffer(3), bytes: [], records: [] }, inputs)).toThrow(/not a batch of outcomes/)
    const badCode: EncodedOutputs = { head: new Float64Array([1, 7, 0, 0, 0, 0, 0]).buffer, bytes: [], records: [] }
    const decoded = decodeOutputs(badCode, [Frames.text('a')])
    expect((decoded[0] as { invalid: Error }).invalid.message).toMatch(/output code 7/)
  })
})
