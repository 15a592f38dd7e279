import { describe, expect, it } from 'vitest'
import { Frames, type Frame } from '../../lib/index.js'

describe('frame identity', () => {
  it('gives every frame a unique increasing id across types', () => {
    const a = Frames.text('a')
    const b = Frames.end()
    const c = Frames.audioRaw({ audio: new Uint8Array(4) })
    expect(b.id).toBeGreaterThan(a.id)
    expect(c.id).toBeGreaterThan(b.id)
  })

  it('names frames "<TypeName>#<n>" with a per-type counter', () => {
    const first = Frames.text('x')
    const second = Frames.text('y')
    const n1 = Number(first.name.split('#')[1])
    expect(first.name).toMatch(/^TextFrame#\d+$/)
    expect(second.name).toBe(`TextFrame#${n1 + 1}`)
    expect(Frames.sync().name).toMatch(/^SyncFrame#\d+$/)
    expect(Frames.app('transcript', { t: 1 }).name).toMatch(/^transcript#\d+$/)
  })

  it('withIdentity restores an id and name without touching the original', () => {
    const f = Frames.text('x')
    const g = Frames.withIdentity(f, 7, 'TextFrame#1')
    expect([g.id, g.name, g.text]).toEqual([7, 'TextFrame#1', 'x'])
    expect(f.id).not.toBe(7)
  })
})

describe('frame constructors', () => {
  it('fills the defaults of start', () => {
    const s = Frames.start()
    expect(s).toMatchObject({
      kind: 'control',
      type: 'start',
      allowInterruptions: false,
      enableMetrics: false,
      enableUsageMetrics: false,
      reportOnlyInitialTtfb: false,
      audioInSampleRate: 16000,
      audioOutSampleRate: 24000,
    })
    expect(Frames.start({ allowInterruptions: true }).allowInterruptions).toBe(true)
  })

  it('derives numFrames of audio and keeps the bytes without copying', () => {
    const bytes = new Uint8Array(640)
    const a = Frames.audioRaw({ audio: bytes })
    expect(a).toMatchObject({ sampleRate: 16000, numChannels: 1, sampleWidth: 2, numFrames: 320 })
    expect(a.audio).toBe(bytes)
    expect(Frames.audioRaw({ audio: bytes, numChannels: 2, sampleWidth: 2 }).numFrames).toBe(160)
    expect(Frames.audioRaw({ audio: new Uint8Array(5) }).numFrames).toBe(2)
  })

  it('builds images with [w, h] size and null format/mode by default', () => {
    const img = Frames.imageRaw({ image: new Uint8Array([1, 2, 3]), size: [1920, 1080] })
    expect(img).toMatchObject({ size: [1920, 1080], format: null, mode: null })
  })

  it('builds errors from strings and Error objects', () => {
    const boom = new Error('boom')
    const e = Frames.error(boom, { fatal: true, processor: 'p' })
    expect(e).toMatchObject({ kind: 'system', type: 'error', error: 'boom', fatal: true, processor: 'p', cause: boom })
    expect(Frames.error('x').fatal).toBe(false)
  })

  it('validates metrics entries', () => {
    const m = Frames.metrics({ ttfb: [{ processor: 'llm', value: 0.5 }] })
    expect(m.ttfb).toEqual([{ processor: 'llm', value: 0.5 }])
    expect(m.processing).toEqual([])
    expect(() => Frames.metrics({ ttfb: [{ processor: 'x', value: Number.NaN }] })).toThrow(TypeError)
  })

  it.each([
    ['text of a number', () => Frames.text(3 as unknown as string), /text/],
    ['audio that is not a Uint8Array', () => Frames.audioRaw({ audio: [1, 2] as unknown as Uint8Array }), /audioRaw\.audio must be a Uint8Array/],
    ['a negative sample rate', () => Frames.audioRaw({ audio: new Uint8Array(2), sampleRate: -1 }), /sampleRate/],
    ['zero channels', () => Frames.audioRaw({ audio: new Uint8Array(2), numChannels: 0 }), /numChannels/],
    ['a fractional sample width', () => Frames.audioRaw({ audio: new Uint8Array(2), sampleWidth: 1.5 }), /sampleWidth/],
    ['an image size of three numbers', () => Frames.imageRaw({ image: new Uint8Array(1), size: [1, 2, 3] as unknown as [number, number] }), /size/],
    ['a negative image width', () => Frames.imageRaw({ image: new Uint8Array(1), size: [-1, 2] }), /width/],
    ['a fractional image height', () => Frames.imageRaw({ image: new Uint8Array(1), size: [1, 2.5] }), /height/],
    ['an image that is a string', () => Frames.imageRaw({ image: 'x' as unknown as Uint8Array, size: [1, 1] }), /image/],
    ['a numeric image format', () => Frames.imageRaw({ image: new Uint8Array(1), size: [1, 1], format: 3 as unknown as string }), /format/],
    ['a non-boolean start flag', () => Frames.start({ allowInterruptions: 'yes' as unknown as boolean }), /allowInterruptions/],
    ['an app frame named like a built-in', () => Frames.app('text', {}), /built-in/],
    ['an empty app type', () => Frames.app('', {}), /empty/],
    ['a non-boolean fatal', () => Frames.error('x', { fatal: 1 as unknown as boolean }), /fatal/],
  ])('throws a TypeError for %s', (_, make, message) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(message)
  })
})

describe('frame guards', () => {
  const frames: Frame[] = [
    Frames.cancel(),
    Frames.error('e'),
    Frames.stopTask(),
    Frames.interruptionTask(),
    Frames.startInterruption(),
    Frames.stopInterruption(),
    Frames.interruption(),
    Frames.metrics(),
    Frames.start(),
    Frames.end(),
    Frames.sync(),
    Frames.syncNotify(),
    Frames.text('t'),
    Frames.audioRaw({ audio: new Uint8Array(2) }),
    Frames.imageRaw({ image: new Uint8Array(1), size: [1, 1] }),
    Frames.app('mine', 1),
  ]

  it('classifies every frame into exactly one kind', () => {
    for (const f of frames) {
      const hits = [Frames.isSystem(f), Frames.isControl(f), Frames.isData(f), Frames.isApp(f)].filter(Boolean)
      expect(hits).toHaveLength(1)
      expect(Frames.isFrame(f)).toBe(true)
    }
    expect(frames.filter(Frames.isSystem)).toHaveLength(8)
    expect(frames.filter(Frames.isControl)).toHaveLength(4)
    expect(frames.filter(Frames.isData)).toHaveLength(3)
  })

  it('matches types with is()', () => {
    expect(frames.filter(Frames.is('text')).map((f) => f.type)).toEqual(['text'])
    expect(frames.filter(Frames.is('start', 'end')).map((f) => f.type)).toEqual(['start', 'end'])
    expect(frames.filter(Frames.isAppType('mine'))).toHaveLength(1)
  })

  it('rejects values that only look like frames', () => {
    expect(Frames.isFrame(null)).toBe(false)
    expect(Frames.isFrame({ type: 'text' })).toBe(false)
    expect(Frames.isFrame({ kind: 'data', type: 'end', id: 1, name: 'x' })).toBe(false)
    expect(Frames.isFrame({ kind: 'app', type: 'text', id: 1, name: 'x' })).toBe(false)
  })
})

describe('frame formatting', () => {
  it('formats frames readably for logs', () => {
    const t = Frames.text('hi')
    expect(Frames.format(t)).toBe(`${t.name}(text: "hi")`)
    const e = Frames.error('boom')
    expect(Frames.format(e)).toBe(`${e.name}(error: boom, fatal: false)`)
    const a = Frames.audioRaw({ audio: new Uint8Array(640) })
    expect(Frames.format(a)).toContain('bytes: 640, frames: 320')
    const i = Frames.imageRaw({ image: new Uint8Array(3), size: [4, 5], format: 'jpeg' })
    expect(Frames.format(i)).toContain('size: 4x5, format: jpeg')
    expect(Frames.format(Frames.end())).toMatch(/^EndFrame#\d+$/)
    expect(Frames.format(Frames.app('x', { a: 1 }))).toContain('data: {"a":1}')
  })
})
