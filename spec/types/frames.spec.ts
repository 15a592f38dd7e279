/**
 * Type-level specs: checked by `npm run typecheck` (tsc over spec/). `expectTypeOf` is a no-op at run time; each
 * `@ts-expect-error` fails the type check if the line below it stops being an error.
 */
import { describe, expectTypeOf, it } from 'vitest'
import {
  Frames,
  defineAppFrame,
  filter,
  frameTypeFilter,
  map,
  pipeline,
  run,
  PipelineTask,
  type AppFrame,
  type AudioRawFrame,
  type Frame,
  type PassThrough,
  type Processor,
  type ProcessorFn,
  type TextFrame,
  type UnknownAppFrame,
} from '../../lib/index.js'

type Transcript = AppFrame<'transcript', { text: string; final: boolean }>
type Intent = AppFrame<'intent', { name: 'buy' | 'sell' }>
type BotFrame = Frame<Transcript | Intent>

describe('Frame narrowing', () => {
  it("frame.type === 'text' narrows the default Frame to TextFrame", () => {
    const f = Frames.text('hi') as Frame
    if (f.type === 'text') expectTypeOf(f).toEqualTypeOf<TextFrame>()
    if (f.type === 'audioRaw') expectTypeOf(f.numFrames).toBeNumber()
    if (f.type !== 'text') {
      // @ts-expect-error not a text frame any more
      void f.text
    }
    switch (f.type) {
      case 'text':
        expectTypeOf(f.text).toBeString()
        break
      case 'imageRaw':
        expectTypeOf(f.size).toEqualTypeOf<readonly [width: number, height: number]>()
        break
      default:
        expectTypeOf(f.type).toBeString()
    }
  })

  it('narrows inside processors and per-frame operators without a kind check', () => {
    const upper = map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
    expectTypeOf(upper).toExtend<Processor>()
    const p: ProcessorFn = async function* (source) {
      for await (const f of source) yield f.type === 'text' ? Frames.text(`${f.text}!`) : f
    }
    expectTypeOf(p).toExtend<ProcessorFn>()
  })

  it("unknown app frames: kind === 'app' narrows to UnknownAppFrame with a string type and unknown data", () => {
    const f = Frames.app('transcript', { text: 'hi' }) as Frame
    if (f.kind === 'app') {
      expectTypeOf(f).toEqualTypeOf<UnknownAppFrame>()
      expectTypeOf(f.data).toBeUnknown()
      expectTypeOf(f.type).toEqualTypeOf<string | undefined>() // index signature under noUncheckedIndexedAccess
    }
    expectTypeOf(f.type).toBeString()
    expectTypeOf(f.kind).toEqualTypeOf<'system' | 'control' | 'data' | 'app'>()
  })

  it('every frame, app frames of any type included, is assignable to the default Frame', () => {
    expectTypeOf(Frames.app('transcript', { text: 'hi', final: true })).toExtend<Frame>()
    expectTypeOf<Transcript>().toExtend<Frame>()
    expectTypeOf<BotFrame>().toExtend<Frame>()
    expectTypeOf<AppFrame>().toExtend<Frame>()
  })

  it('typed app frames narrow by type and a switch over them is exhaustive', () => {
    const describeFrame = (f: BotFrame): string => {
      switch (f.type) {
        case 'transcript':
          return f.data.text
        case 'intent':
          return f.data.name
        case 'text':
          return f.text
        case 'audioRaw':
        case 'imageRaw':
          return f.name
        default:
          if (f.kind === 'system' || f.kind === 'control') return f.type
          expectTypeOf(f).toBeNever()
          return f
      }
    }
    expectTypeOf(describeFrame).parameter(0).toEqualTypeOf<BotFrame>()
    const g = Frames.app('intent', { name: 'buy' }) as BotFrame
    if (g.type === 'intent') expectTypeOf(g).toEqualTypeOf<Intent>()
    if (g.kind === 'app') expectTypeOf(g).toEqualTypeOf<Transcript | Intent>()
  })

  it('an unknown app frame is not one of your declared ones', () => {
    const f = Frames.text('x') as Frame
    // @ts-expect-error a Frame may carry app frames BotFrame does not declare
    const b: BotFrame = f
    void b
  })
})

describe('app frame constructors keep literal types', () => {
  it('Frames.app<Intent>(...) checks data against the frame type', () => {
    const buying = Math.random() > 0.5
    const widened = Frames.app('intent', { name: buying ? 'buy' : 'sell' })
    expectTypeOf(widened.data.name).toBeString()
    const typed = Frames.app<Intent>('intent', { name: buying ? 'buy' : 'sell' })
    expectTypeOf(typed).toEqualTypeOf<Intent>()
    // @ts-expect-error not one of the intent names
    Frames.app<Intent>('intent', { name: 'hold' })
    // @ts-expect-error the type must match
    Frames.app<Intent>('intnet', { name: 'buy' })
  })

  it('defineAppFrame<Intent>(type) gives a typed constructor and guard', () => {
    const intent = defineAppFrame<Intent>('intent')
    expectTypeOf(intent({ name: 'sell' })).toEqualTypeOf<Intent>()
    expectTypeOf(intent.type).toEqualTypeOf<'intent'>()
    const f = Frames.text('x') as Frame
    if (intent.is(f)) expectTypeOf(f.data.name).toEqualTypeOf<'buy' | 'sell'>()
    // @ts-expect-error not one of the intent names
    intent({ name: 'hold' })
  })
})

describe('typed pipelines', () => {
  const asr: Processor<AudioRawFrame, Transcript> = pipeline(async function* (source) {
    for await (const f of source) yield Frames.app<Transcript>('transcript', { text: String(f.numFrames), final: true })
  })
  const nlu: Processor<Transcript, Intent> = pipeline(async function* (source) {
    for await (const f of source) yield Frames.app<Intent>('intent', { name: f.data.text.includes('buy') ? 'buy' : 'sell' })
  })
  const speak: Processor<Intent, TextFrame> = pipeline(async function* (source) {
    for await (const f of source) yield Frames.text(f.data.name)
  })

  it('chains Processor<A, B>, Processor<B, C> into Processor<A, C>', () => {
    expectTypeOf(pipeline(asr, nlu)).toEqualTypeOf<Processor<AudioRawFrame, Intent>>()
    expectTypeOf(pipeline(asr, nlu, speak)).toEqualTypeOf<Processor<AudioRawFrame, TextFrame>>()
    expectTypeOf(pipeline(pipeline(asr, nlu), speak)).toEqualTypeOf<Processor<AudioRawFrame, TextFrame>>()
  })

  it('reports a stage whose input does not accept the previous output (no untyped fallback)', () => {
    // @ts-expect-error speak reads intents, asr yields transcripts
    pipeline(asr, speak)
    // @ts-expect-error the mismatch is found at any position
    pipeline(asr, nlu, nlu)
    // @ts-expect-error also among untyped stages
    pipeline(map((f) => f), speak, map((f) => f))
  })

  it('types the source of inline stages from the stage before', () => {
    pipeline(nlu, async function* (source) {
      for await (const f of source) {
        expectTypeOf(f).toEqualTypeOf<Intent>()
        yield f
      }
    })
  })

  it('run() and PipelineTask.frames() keep the output type', () => {
    const handle = run(pipeline(asr, nlu), [] as AudioRawFrame[])
    expectTypeOf(handle).toExtend<AsyncIterable<Intent>>()
    const task = new PipelineTask(pipeline(nlu, speak))
    expectTypeOf(task.frames()).toEqualTypeOf<AsyncIterable<TextFrame>>()
    // @ts-expect-error the input must be frames the processor reads
    run(nlu, [Frames.text('hi')])
  })
})

describe('pass-through processors over your frame union', () => {
  it('Processor<BotFrame, BotFrame> forwards what it does not handle', () => {
    const bot: ProcessorFn<BotFrame, BotFrame> = async function* (source) {
      for await (const f of source) {
        if (f.type === 'transcript') yield Frames.app<Intent>('intent', { name: 'buy' })
        else yield f
      }
    }
    const p = pipeline(frameTypeFilter<BotFrame>({ exclude: ['imageRaw'] }), bot, filter<BotFrame>((f) => f.type !== 'text'))
    expectTypeOf(p).toEqualTypeOf<Processor<BotFrame, BotFrame>>()
  })

  it('PassThrough<O> fits any frame union: it yields what it reads plus O', () => {
    const detect: PassThrough<Intent> = async function* (source) {
      for await (const f of source) {
        if (f.type === 'text' && f.text.includes('buy')) yield Frames.app<Intent>('intent', { name: 'buy' })
        yield f
      }
    }
    const open: Processor<Frame, Frame> = pipeline(detect)
    expectTypeOf(open).toEqualTypeOf<Processor>()
    const typed: Processor<BotFrame, BotFrame> = pipeline(detect)
    expectTypeOf(typed).toEqualTypeOf<Processor<BotFrame, BotFrame>>()
  })

  it('Processor<Frame, OpenBotFrame> forwards unknown frames: an open union lists UnknownAppFrame', () => {
    type OpenBotFrame = Frame<Transcript | Intent | UnknownAppFrame>
    const bot: ProcessorFn<Frame, OpenBotFrame> = async function* (source) {
      for await (const f of source) {
        if (f.type === 'text') yield Frames.app<Intent>('intent', { name: 'sell' })
        else yield f
      }
    }
    expectTypeOf(bot).toExtend<ProcessorFn<Frame, Frame>>()
    const g = Frames.text('x') as OpenBotFrame
    if (g.type === 'intent') expectTypeOf(g).toEqualTypeOf<Intent>()
  })
})
