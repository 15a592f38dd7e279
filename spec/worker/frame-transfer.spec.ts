/** Frames across threads: what is moved, what is copied, and how records become frames again (no threads needed). */
import { describe, expect, it } from 'vitest'
import { Frames, type Frame } from '../../lib/index.js'
import { FrameRecordError, packFrame, unpackFrame } from '../../lib/worker/frame-transfer.js'
import { everyKind } from './helpers.js'

/** Packs `frame`, sends the record through a structured clone with its transfer list, and unpacks it. */
function cross(frame: Frame, move: boolean, keepIdentity = false): { back: Frame; transfer: ArrayBuffer[]; sizes: number[] } {
  const transfer = new Set<ArrayBuffer>()
  const record = packFrame(frame, move, transfer)
  const list = [...transfer]
  const sizes = list.map((b) => b.byteLength)
  const cloned: unknown = structuredClone(record, { transfer: list })
  return { back: unpackFrame(cloned, keepIdentity ? frame : undefined), transfer: list, sizes }
}

const fields = (f: Frame): Record<string, unknown> => {
  const { id: _id, name: _name, ...rest } = f as unknown as Record<string, unknown>
  return rest
}

describe('frames across threads', () => {
  it('every built-in frame and an app frame comes back with the same fields, through the constructors', () => {
    const frames = everyKind()
    for (const frame of frames) {
      const expected = structuredClone(fields(frame)) // before the frame's bytes move
      const { back } = cross(frame, true)
      expect(fields(back)).toEqual(expected)
      expect(back.id).not.toBe(frame.id) // a fresh identity on the receiving side
      expect(back.name.split('#')[0]).toBe(frame.name.split('#')[0])
      const same = unpackFrame(structuredClone(packFrame(back, false, new Set())), back)
      expect([same.id, same.name]).toEqual([back.id, back.name])
      expect(fields(same)).toEqual(expected)
    }
  })

  it('keeps the identity when told the record is the same frame', () => {
    const frame = Frames.text('same')
    const { back } = cross(frame, true, true)
    expect([back.id, back.name]).toEqual([frame.id, frame.name])
  })

  it('moves a buffer that a view spans whole: detached on the sending side, no copy', () => {
    const audio = new Uint8Array([1, 2, 3, 4])
    const { back, transfer } = cross(Frames.audioRaw({ audio }), true)
    expect(transfer).toHaveLength(1)
    expect(audio.byteLength).toBe(0)
    expect(back.kind === 'data' && back.type === 'audioRaw' ? [...back.audio] : []).toEqual([1, 2, 3, 4])
  })

  it('copies a view into a larger buffer (exactly its bytes), and copies everything without move', () => {
    const big = new Uint8Array(4096).fill(7)
    const view = big.subarray(100, 104)
    const { back, sizes } = cross(Frames.imageRaw({ image: view, size: [2, 2] }), true)
    expect(big.byteLength).toBe(4096)
    expect(sizes).toEqual([4])
    expect(back.kind === 'data' && back.type === 'imageRaw' ? [...back.image] : []).toEqual([7, 7, 7, 7])

    const kept = new Uint8Array([5, 6])
    cross(Frames.audioRaw({ audio: kept }), false)
    expect([...kept]).toEqual([5, 6])
  })

  it('moves whole typed arrays and ArrayBuffers inside app data, once each; views into larger buffers stay copies', () => {
    const pcm = new Int16Array([1, -1])
    const raw = new ArrayBuffer(8)
    const big = new Uint8Array(64)
    const data = { chunks: [pcm, pcm], nested: { raw }, part: big.subarray(0, 4) }
    const { back, transfer } = cross(Frames.app('chunks', data), true)
    expect(transfer).toHaveLength(2)
    expect(pcm.byteLength).toBe(0)
    expect(raw.byteLength).toBe(0)
    expect(big.byteLength).toBe(64)
    const got = (back as ReturnType<typeof Frames.app<'chunks', typeof data>>).data
    expect([...got.chunks[0]!]).toEqual([1, -1])
    expect(got.chunks[0]).toBe(got.chunks[1])
    expect(got.nested.raw.byteLength).toBe(8)
  })

  it("leaves an error frame's in-memory cause behind", () => {
    const frame = Frames.error(new Error('x'))
    expect(frame.cause).toBeInstanceOf(Error)
    const record = packFrame(frame, true, new Set())
    expect('cause' in record).toBe(false)
  })

  it('refuses records that are not valid frames with a FrameRecordError naming the problem', () => {
    expect(() => unpackFrame(42)).toThrow(FrameRecordError)
    expect(() => unpackFrame(null)).toThrow(/not a frame: null/)
    expect(() => unpackFrame({ kind: 'data' })).toThrow(/its type is/)
    expect(() => unpackFrame({ kind: 'system', type: 'text', text: 'x' })).toThrow(/must have kind "data"/)
    expect(() => unpackFrame({ kind: 'data', type: 'custom', data: 1 })).toThrow(/type "custom" with kind "data"/)
    expect(() => unpackFrame({ kind: 'data', type: 'text', text: 7 })).toThrow(/not a valid frame: .*text/)
    expect(() => unpackFrame({ kind: 'data', type: 'audioRaw', audio: 'x' })).toThrow(/audioRaw\.audio/)
    expect(() => unpackFrame({ kind: 'control', type: 'start', audioInSampleRate: -1 })).toThrow(/audioInSampleRate/)
    expect(() => unpackFrame({ kind: 'data', type: 'text', text: 'x', uninterruptible: 'yes' })).toThrow(/uninterruptible is "yes"/)
    expect(() => unpackFrame({ kind: 'data', type: 'text', text: 'x' }, { id: -1, name: 'x' })).toThrow(/not a frame identity: id -1/)
    expect(() => unpackFrame({ kind: 'data', type: 'text', text: 'x' }, { id: 1, name: 7 as never })).toThrow(/not a frame identity: name 7/)
  })
})
