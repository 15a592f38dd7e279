import { describe, expect, it } from 'vitest'
import { Frames } from '../../lib/index.js'
import { describeDifference, frameKey, normalizeFrame, sameFrames, withoutLifecycle } from '../../lib/testing/index.js'

describe('frame comparison', () => {
  it('normalizeFrame drops id, name and cause and keeps the payload', () => {
    expect(normalizeFrame(Frames.text('hi'))).toEqual({ kind: 'data', type: 'text', text: 'hi' })
    const err = Frames.error(new Error('boom'), { processor: 'p' })
    expect(normalizeFrame(err)).toEqual({ kind: 'system', type: 'error', error: 'boom', fatal: false, processor: 'p' })
    expect(normalizeFrame(err, { ignore: ['processor'] })).toEqual({ kind: 'system', type: 'error', error: 'boom', fatal: false })
    expect(normalizeFrame(Frames.app('t', { a: 1 }))).toEqual({ kind: 'app', type: 't', data: { a: 1 } })
  })

  it('sameFrames compares types and payloads, not identities', () => {
    expect(sameFrames([Frames.text('a'), Frames.end()], [Frames.text('a'), Frames.end()])).toBe(true)
    expect(sameFrames([Frames.text('a')], [Frames.text('b')])).toBe(false)
    expect(sameFrames([Frames.text('a')], [Frames.text('a'), Frames.end()])).toBe(false)
    expect(sameFrames([Frames.sync()], [Frames.syncNotify()])).toBe(false)
    expect(sameFrames([Frames.app('t', { a: 1, b: [2] })], [Frames.app('t', { b: [2], a: 1 })])).toBe(true)
    expect(sameFrames([Frames.app('t', { a: 1 })], [Frames.app('t', { a: '1' })])).toBe(false)
    expect(sameFrames([Frames.app('t', undefined)], [Frames.app('t', null)])).toBe(false)
    expect(
      sameFrames([Frames.error('x', { processor: 'a' })], [Frames.error('x', { processor: 'b' })], { ignore: ['processor'] }),
    ).toBe(true)
    expect(sameFrames([Frames.error('x', { processor: 'a' })], [Frames.error('x', { processor: 'b' })])).toBe(false)
  })

  it('frameKey compares byte payloads by content', () => {
    const a = Frames.audioRaw({ audio: new Uint8Array([1, 2, 3, 4]) })
    const b = Frames.audioRaw({ audio: new Uint8Array([1, 2, 3, 4]) })
    const c = Frames.audioRaw({ audio: new Uint8Array([1, 2, 3, 5]) })
    expect(frameKey(a)).toBe(frameKey(b))
    expect(frameKey(a)).not.toBe(frameKey(c))
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(frameKey(Frames.app('t', cyclic))).toContain('[cyclic]')
    expect(frameKey(Frames.app('t', new Map([[1, 'x']])))).not.toBe(frameKey(Frames.app('t', new Map([[1, 'y']]))))
  })

  it('describeDifference points at the first differing index', () => {
    expect(describeDifference([Frames.text('a')], [Frames.text('a')])).toBeUndefined()
    expect(describeDifference([Frames.text('a'), Frames.text('b')], [Frames.text('a'), Frames.text('c')])).toMatch(/^at index 1:/)
    expect(describeDifference([Frames.text('a')], [])).toMatch(/\(nothing\)/)
  })

  it('withoutLifecycle drops start, end and metrics frames only', () => {
    const frames = [Frames.start(), Frames.metrics(), Frames.text('x'), Frames.app('ending', 1), Frames.sync(), Frames.end()]
    expect(withoutLifecycle(frames).map((f) => f.type)).toEqual(['text', 'ending', 'sync'])
  })

  it('rejects bad input with a TypeError', () => {
    expect(() => normalizeFrame(null as never)).toThrow(TypeError)
    expect(() => normalizeFrame(Frames.text('x'), { ignore: 'id' as never })).toThrow(TypeError)
    expect(() => sameFrames('ab' as never, [])).toThrow(TypeError)
  })
})
