import fc, { type Arbitrary } from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { Frames, type AudioRawFrame, type ImageRawFrame, type TextFrame } from '../../lib/index.js'
import {
  arbAppFrame,
  arbAudioRawFrame,
  arbImageRawFrame,
  arbTextFrame,
  arbDataFrame,
  arbFrame,
  arbFrames,
  arbProcessor,
  arbStartParams,
  arbSystemFrame,
  checkLifecycleLaws,
  runProcessor,
} from '../../lib/testing/index.js'

describe('frame arbitraries', () => {
  it('arbFrames({ withLifecycle }) puts start first, end last and neither in between', () => {
    fc.assert(
      fc.property(arbFrames({ withLifecycle: true, maxLength: 10 }), (frames) => {
        expect(frames[0]?.type).toBe('start')
        expect(frames.at(-1)?.type).toBe('end')
        const inner = frames.slice(1, -1)
        expect(inner.some((f) => Frames.isLifecycle(f))).toBe(false)
        expect(frames.every((f) => Frames.isFrame(f))).toBe(true)
      }),
    )
  })

  it('arbFrames() without lifecycle yields only the frames in between, within the length bounds', () => {
    fc.assert(
      fc.property(arbFrames({ minLength: 2, maxLength: 5 }), (frames) => {
        expect(frames.length).toBeGreaterThanOrEqual(2)
        expect(frames.length).toBeLessThanOrEqual(5)
        expect(frames.some((f) => Frames.isLifecycle(f))).toBe(false)
      }),
    )
  })

  it('every frame of a stream is a distinct object with its own id', () => {
    fc.assert(
      fc.property(arbFrames({ withLifecycle: true, maxLength: 30 }), (frames) => {
        expect(new Set(frames.map((f) => f.id)).size).toBe(frames.length)
      }),
    )
  })

  it('withLifecycle uses the given start parameters', () => {
    const [frames] = fc.sample(arbFrames({ withLifecycle: true, start: { allowInterruptions: true } }), 1)
    const start = frames?.[0]
    expect(start?.kind === 'control' && start.type === 'start' && start.allowInterruptions).toBe(true)
  })

  it('arbDataFrame makes data frames; arbSystemFrame only frames that do not end or interrupt a run', () => {
    fc.assert(fc.property(arbDataFrame(), (f) => f.kind === 'data'))
    fc.assert(
      fc.property(arbSystemFrame(), (f) => f.kind === 'system' && ['error', 'metrics', 'stopInterruption'].includes(f.type)),
    )
    fc.assert(fc.property(arbSystemFrame(), (f) => f.type !== 'error' || !f.fatal))
  })

  it('arbFrame honours its switches', () => {
    fc.assert(fc.property(arbFrame({ data: false }), (f) => f.kind === 'control'))
    fc.assert(fc.property(arbFrame({ control: false }), (f) => f.kind === 'data'))
    const kinds = new Set(fc.sample(arbFrame({ system: true }), 300).map((f) => f.kind))
    expect(kinds).toEqual(new Set(['data', 'control', 'system']))
  })

  it('arbAppFrame builds app frames from a record schema or a data arbitrary', () => {
    const transcript = arbAppFrame('transcript', { text: fc.string(), final: fc.boolean() })
    fc.assert(
      fc.property(transcript, (f) => {
        expect(f.kind).toBe('app')
        expect(f.type).toBe('transcript')
        expect(typeof f.data.text).toBe('string')
        expect(typeof f.data.final).toBe('boolean')
      }),
    )
    const intent = arbAppFrame('intent', fc.constantFrom('buy', 'sell'))
    fc.assert(fc.property(intent, (f) => f.data === 'buy' || f.data === 'sell'))
    const mixed = fc.sample(arbFrame({ app: [intent, transcript] }), 300)
    expect(new Set(mixed.filter((f) => f.kind === 'app').map((f) => f.type))).toEqual(new Set(['intent', 'transcript']))
  })

  it('arbStartParams makes valid start parameters', () => {
    fc.assert(fc.property(arbStartParams(), (params) => Frames.start(params).type === 'start'))
  })

  it('counterexamples print frames readably, text quoted', () => {
    const [frame] = fc.sample(arbFrame({ control: false }), { numRuns: 1, seed: 42 })
    expect(fc.stringify(frame)).toMatch(/^(Text|AudioRaw|ImageRaw)Frame#\d+\(/)
    const [space] = fc.sample(arbTextFrame({ text: fc.constant(' ') }), 1)
    expect(fc.stringify(space)).toMatch(/^TextFrame#\d+\(text: " "\)$/)
    expect(Frames.format(Frames.text(''))).toMatch(/\(text: ""\)$/)
    expect(Frames.format(Frames.text('a, b)\n'))).toMatch(/\(text: "a, b\)\\n"\)$/)
  })

  it('the typed arbitraries give the frame type itself', () => {
    expectTypeOf(arbTextFrame()).toEqualTypeOf<Arbitrary<TextFrame>>()
    expectTypeOf(arbAudioRawFrame()).toEqualTypeOf<Arbitrary<AudioRawFrame>>()
    expectTypeOf(arbImageRawFrame()).toEqualTypeOf<Arbitrary<ImageRawFrame>>()
    const lengths = fc.sample(arbTextFrame({ maxLength: 5 }), 20).map((f) => f.text.length)
    expect(lengths.every((n) => n <= 5)).toBe(true)
  })

  it('rejects bad options with a TypeError', () => {
    expect(() => arbAppFrame('text', fc.nat())).toThrow(TypeError)
    expect(() => arbAppFrame('', fc.nat())).toThrow(TypeError)
    expect(() => arbAppFrame('x', { a: 1 } as never)).toThrow(/arbitrary/)
    expect(() => arbFrame({ data: false, control: false })).toThrow(TypeError)
    expect(() => arbFrames({ minLength: 5, maxLength: 2 })).toThrow(TypeError)
    expect(() => arbFrames({ maxLength: -1 })).toThrow(TypeError)
    expect(() => arbFrames({ withLifecycle: true, start: { audioInSampleRate: 0 } })).toThrow(TypeError)
    expect(() => fc.sample(arbFrames({ frame: fc.constant(null).map(() => Frames.end()) }), 5)).toThrow(/start or end/)
  })
})

describe('arbProcessor', () => {
  it('generates processors that obey the lifecycle laws', async () => {
    await fc.assert(
      fc.asyncProperty(arbProcessor(), async (p) => {
        await checkLifecycleLaws(p, { numRuns: 5 })
      }),
      { numRuns: 30 },
    )
  })

  it('generates deterministic processors: two runs over the same input agree', async () => {
    await fc.assert(
      fc.asyncProperty(arbProcessor(), arbFrames({ maxLength: 8 }), async (p, frames) => {
        const a = await runProcessor(p, frames)
        const b = await runProcessor(p, frames)
        expect(a.status).toBe('ended')
        expect(a.downstream.map((f) => Frames.format(f).replace(/#\d+/g, ''))).toEqual(
          b.downstream.map((f) => Frames.format(f).replace(/#\d+/g, '')),
        )
      }),
      { numRuns: 30 },
    )
  })

  it('draws only the requested kinds and prints them by description', () => {
    const printed = fc.sample(arbProcessor({ kinds: ['batch'] }), 20).map((p) => fc.stringify(p))
    expect(printed.every((s) => /^batch\(\d\)$/.test(s))).toBe(true)
    expect(() => arbProcessor({ kinds: [] })).toThrow(TypeError)
    expect(() => arbProcessor({ kinds: ['nope' as never] })).toThrow(TypeError)
  })
})
