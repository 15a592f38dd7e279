import { describe, expect, it } from 'vitest'
import { FrameDecodeError, Frames, jsonSerializer, protobufSerializer, uninterruptible } from '../../lib/index.js'

describe('uninterruptible frames on the wire', () => {
  it('JSON carries the mark, for built-in and app frames, and only when set', async () => {
    const ser = jsonSerializer()
    for (const frame of [uninterruptible(Frames.text('persist me')), uninterruptible(Frames.app('toolResult', { v: 1 }))]) {
      const back = await ser.deserialize(await ser.serialize(frame))
      expect(back).toEqual(frame)
      expect(back.uninterruptible).toBe(true)
    }
    const plain = Frames.text('x')
    expect(String(await ser.serialize(plain))).not.toContain('uninterruptible')
    expect((await ser.deserialize(await ser.serialize(plain))).uninterruptible).toBeUndefined()
  })

  it('JSON rejects a mark that is not a boolean with a typed error', async () => {
    const ser = jsonSerializer()
    const bad = '{"kind":"data","type":"text","id":1,"name":"TextFrame#0","text":"hi","uninterruptible":"yes"}'
    await expect(async () => ser.deserialize(bad)).rejects.toBeInstanceOf(FrameDecodeError)
  })

  it('protobuf (the Python schema has no such field) drops the mark: documented, the frame itself round-trips', async () => {
    const ser = protobufSerializer()
    const back = await ser.deserialize(await ser.serialize(uninterruptible(Frames.text('t'))))
    expect(back.type).toBe('text')
    expect(back.uninterruptible).toBeUndefined()
  })
})
