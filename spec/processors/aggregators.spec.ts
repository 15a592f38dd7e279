import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { detachedContext, type ProcessorContext } from '../../lib/core/context.js'
import type { Processor } from '../../lib/core/processor.js'
import { runProcessor, sleep } from '../../lib/testing/run-processor.js'
import { pipeline } from '../../lib/core/pipeline.js'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { EventNotifier } from '../../lib/notifiers/event-notifier.js'
import { notifyOn } from '../../lib/notifiers/notify-on.js'
import { matchEndOfSentence } from '../../lib/processors/aggregators/end-of-sentence.js'
import { gatedAggregator } from '../../lib/processors/aggregators/gated.js'
import { holdFrames } from '../../lib/processors/aggregators/hold-frames.js'
import { holdLastFrame } from '../../lib/processors/aggregators/hold-last-frame.js'
import { sentenceAggregator } from '../../lib/processors/aggregators/sentence.js'
import { collect, pushUpOnStart, sampleFrames, texts, types } from './run-helpers.js'

/** The task lets system frames overtake queued input; this stage puts an interruption exactly where `marker` was. */
const interruptAt = (make: () => Frame = Frames.startInterruption) =>
  async function* interruptAt(source: AsyncIterable<Frame>): AsyncGenerator<Frame> {
    for await (const f of source) yield f.type === 'marker' ? make() : f
  }
const INT = (): Frame => Frames.app('marker', null)
const T = (...xs: string[]): Frame[] => xs.map((x) => Frames.text(x))
/** Text of text frames, `type` of the others. */
const show = (frames: readonly Frame[]): string[] => frames.map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))

describe('matchEndOfSentence', () => {
  it.each([
    ['Hello world.', true],
    ['Hello world. ', true],
    ['Really?', true],
    ['Wow!', true],
    ['Note:', true],
    ['你叫什么？', true],
    ['好的。', true],
    ['Hello, ', false],
    ['Hello，', false],
    ['Hello', false],
    ['Talk to Dr.', false],
    ['Ask Mrs.', false],
    ['Prof.', false],
    ['The U.S.', false],
    ['At 5 p.', false],
    ['你好，hello. hi', false],
    // numbers and capitals end sentences where they should
    ['Your total is 20.', true],
    ['Version 3.', true],
    ['It costs $3.50.', true],
    ['The time is 10:', true],
    ['I live in the USA.', true],
    ['NASA.', true],
    ["I'm OK.", true],
    ['So do I.', true],
    ['Is it 20?', true],
    ['Are you in the USA?', true],
    ['USA!', true],
    ['He said "Hi."', true],
    ['(See above.)', true],
    ['Well...', true],
    ['The meeting is at 5 p.m.', true],
    // and do not where they should not
    ['Talk to Dr', false],
    ['Meet Dr. Smith', false],
    ['Call Mr.', false],
    ['Use a tool, e.g.', false],
    ['E.g.', false],
    ['That is, i.e.', false],
    ['Cats vs.', false],
    ['It is 3.14', false],
    ['Made in the U.S.A', false],
    ['Made in the U.S.A.', false],
    ['The U.', false],
    ['John F.', false],
    ['1.', false],
    [' 2.', false],
    ['', false],
    ['  ', false],
  ])('%j → %s', (text, expected) => {
    expect(matchEndOfSentence(text)).toBe(expected)
  })
  it('rejects a non-string', () => expect(() => matchEndOfSentence(1 as never)).toThrow(TypeError))
})

describe('sentenceAggregator', () => {
  it('joins text into sentences and flushes the rest at end, before end', async () => {
    const { out } = await collect(sentenceAggregator(), T('Hello, ', 'world.', ' How are', ' you?', ' Bye'))
    expect(show(out)).toEqual(['start', 'Hello, world.', ' How are you?', ' Bye', 'end'])
  })

  it('only the end of the accumulated text counts (the seed example)', async () => {
    const { out } = await collect(sentenceAggregator(), T('你好，hello. hi', '你叫什么？'))
    expect(texts(out)).toEqual(['你好，hello. hi你叫什么？'])
  })

  it('down: system, control (other than end), audio and app frames pass at once without flushing', async () => {
    const m = Frames.metrics()
    const { out } = await collect(sentenceAggregator(), [Frames.text('Hi'), m, Frames.syncNotify(), Frames.audioRaw({ audio: new Uint8Array(2) }), Frames.app('note', 1), Frames.text(' there.')])
    expect(show(out)).toEqual(['start', 'metrics', 'syncNotify', 'audioRaw', 'note', 'Hi there.', 'end'])
  })

  it('down: an interruption drops the unfinished sentence by default', async () => {
    const { out } = await collect(pipeline(interruptAt(), sentenceAggregator()), [Frames.text('stale'), INT(), Frames.text('New.')])
    expect(show(out)).toEqual(['start', 'startInterruption', 'New.', 'end'])
  })

  it("interruption: 'flush' emits it before the interruption frame; 'keep' keeps accumulating", async () => {
    const input = (): Frame[] => [Frames.text('half'), INT(), Frames.text(' more.')]
    const flush = await collect(pipeline(interruptAt(Frames.interruption), sentenceAggregator({ interruption: 'flush' })), input())
    expect(show(flush.out)).toEqual(['start', 'half', 'interruption', ' more.', 'end'])
    const keep = await collect(pipeline(interruptAt(Frames.interruption), sentenceAggregator({ interruption: 'keep' })), input())
    expect(show(keep.out)).toEqual(['start', 'interruption', 'half more.', 'end'])
  })

  it('up: text is aggregated and sent on upstream (not turned around); system/control/app pass; end flushes', async () => {
    const s = sampleFrames()
    const { out, ups } = await collect(
      pipeline(sentenceAggregator(), pushUpOnStart(() => [Frames.text('Up '), s.system, s.control, s.app, Frames.text('there.'), Frames.text('tail')])),
      [],
    )
    expect(texts(out)).toEqual([])
    expect(show(ups)).toEqual(['metrics', 'syncNotify', 'note', 'Up there.', 'tail'])
  })

  it('up: an upstream end flushes the upstream text first', async () => {
    const { ups } = await collect(pipeline(sentenceAggregator(), pushUpOnStart(() => [Frames.text('part'), Frames.end()])), [])
    expect(show(ups).slice(0, 2)).toEqual(['part', 'end'])
  })

  it('custom isEndOfSentence; a throwing rule is reported and text keeps accumulating', async () => {
    const { out } = await collect(sentenceAggregator({ isEndOfSentence: (t) => t.endsWith(',') }), T('a,', 'b'))
    expect(texts(out)).toEqual(['a,', 'b'])
    let calls = 0
    const r = await collect(
      sentenceAggregator({
        isEndOfSentence: () => {
          if (calls++ === 0) throw new Error('rule broke')
          return false
        },
      }),
      T('x', 'y'),
    )
    expect(texts(r.out)).toEqual(['xy'])
    expect(r.ups.some((f) => f.kind === 'system' && f.type === 'error' && f.error === 'rule broke')).toBe(true)
  })

  it('a sentence ending with a number waits for the next text: a digit continues it, anything else releases it', async () => {
    const { out } = await collect(sentenceAggregator(), T('Your total is 20', '.', ' Anything else', '?', ' Pi is 3', '.', '14', ' exactly.', ' Bye at 10', ':', '30', '.'))
    expect(show(out)).toEqual(['start', 'Your total is 20.', ' Anything else?', ' Pi is 3.14 exactly.', ' Bye at 10:30.', 'end'])
    // With no next text, end (or sync, or the timeout) releases it.
    const last = await collect(sentenceAggregator(), T('Your total is 20', '.'))
    expect(show(last.out)).toEqual(['start', 'Your total is 20.', 'end'])
    // A custom rule is applied as it is: no waiting.
    const custom = await collect(sentenceAggregator({ isEndOfSentence: (t) => t.endsWith('.') }), T('3.', '14.'))
    expect(texts(custom.out)).toEqual(['3.', '14.'])
  })

  it('"I live in the USA." and "Your total is 20." come out before the next turn starts', async () => {
    const { out } = await collect(sentenceAggregator(), T('I live in the USA', '.', ' Dr. Smith said e.g. this.', 'Made in the U.S.A', '. Yes', '!'))
    expect(texts(out)).toEqual(['I live in the USA.', ' Dr. Smith said e.g. this.', 'Made in the U.S.A. Yes!'])
  })

  it('text pushed upstream in reaction to the sentence flushed at end is not lost', async () => {
    // A later stage answers every sentence it sees with a text sent upstream (like a transcript echo).
    const echo = async function* echo(source: AsyncIterable<Frame>, ctx?: ProcessorContext): AsyncGenerator<Frame> {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx?.pushUpstream(Frames.text(`heard: ${f.text}`))
        yield f
      }
    }
    const { out, ups, result } = await collect(pipeline(sentenceAggregator(), echo), T('Hello there.', ' Unfinished'))
    expect(result.status).toBe('ended')
    expect(show(out)).toEqual(['start', 'Hello there.', ' Unfinished', 'end'])
    expect(texts(ups)).toEqual(['heard: Hello there.', 'heard:  Unfinished'])
  })

  it("flushes on sync (the response-end frame) in both directions; flushOn picks other frames", async () => {
    const { out } = await collect(sentenceAggregator(), [Frames.text('The total is 20'), Frames.sync(), Frames.text('Next turn.')])
    expect(show(out)).toEqual(['start', 'The total is 20', 'sync', 'Next turn.', 'end'])
    const up = await collect(pipeline(sentenceAggregator(), pushUpOnStart(() => [Frames.text('user said'), Frames.sync(), Frames.text(' more')])), [])
    expect(show(up.ups).slice(0, 3)).toEqual(['user said', 'sync', ' more'])
    const responseEnd = (f: Frame): boolean => f.type === 'llmResponseEnd'
    const custom = await collect(sentenceAggregator({ flushOn: responseEnd }), [Frames.text('a'), Frames.sync(), Frames.text('b'), Frames.app('llmResponseEnd', null), Frames.text('c')])
    expect(show(custom.out)).toEqual(['start', 'sync', 'ab', 'llmResponseEnd', 'c', 'end'])
  })

  it('a throwing flushOn is reported and the frame passes without a flush', async () => {
    const r = await collect(
      sentenceAggregator({
        flushOn: () => {
          throw new Error('bad predicate')
        },
      }),
      [Frames.text('a'), Frames.sync(), Frames.text('b')],
    )
    expect(show(r.out)).toEqual(['start', 'sync', 'ab', 'end'])
    expect(r.ups.filter((f) => f.kind === 'system' && f.type === 'error').length).toBeGreaterThan(0)
  })

  it('rejects bad options', () => {
    expect(() => sentenceAggregator({ interruption: 'x' as never })).toThrow(TypeError)
    expect(() => sentenceAggregator({ isEndOfSentence: 1 as never })).toThrow(TypeError)
    expect(() => sentenceAggregator({ flushOn: 1 as never })).toThrow(TypeError)
    for (const timeoutMs of [0, -1, Number.NaN, Infinity, '5' as never]) expect(() => sentenceAggregator({ timeoutMs })).toThrow(TypeError)
  })
})

describe('sentenceAggregator timeoutMs (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('emits unfinished text after timeoutMs without new text, not before; new text restarts the wait', async () => {
    const at: Array<[number, string]> = []
    const t0 = Date.now()
    const stamp: Processor = async function* stamp(source) {
      for await (const f of source) {
        at.push([Date.now() - t0, f.kind === 'data' && f.type === 'text' ? f.text : f.type])
        yield f
      }
    }
    const { downstream, status } = await runProcessor(
      pipeline(sentenceAggregator({ timeoutMs: 500 }), stamp),
      [Frames.text('Your total'), sleep(300), Frames.text(' is 20'), sleep(300), Frames.text('.'), sleep(2000), Frames.text('Next')],
      { fakeTimers: vi, tickMs: 50 },
    )
    expect(status).toBe('ended')
    expect(show(downstream)).toEqual(['start', 'Your total is 20.', 'Next', 'end'])
    const flushed = at.find(([, what]) => what === 'Your total is 20.')
    // The last text came at 600 ms: the flush is due at 1100 ms (ticks of 50 ms), well before 'Next' at 2600 ms.
    expect(flushed?.[0]).toBeGreaterThanOrEqual(1100)
    expect(flushed?.[0]).toBeLessThan(1200)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('times out upstream text too; timers are cleared at end, on an interruption drop and on teardown', async () => {
    const up = await runProcessor(
      pipeline(sentenceAggregator({ timeoutMs: 200 }), pushUpOnStart(() => [Frames.text('held up')])),
      [sleep(500), Frames.text('x')],
      { fakeTimers: vi, tickMs: 50 },
    )
    expect(texts(up.upstream)).toEqual(['held up'])
    expect(texts(up.downstream)).toEqual(['x'])
    expect(vi.getTimerCount()).toBe(0)

    const dropped = await runProcessor(pipeline(interruptAt(), sentenceAggregator({ timeoutMs: 200 })), [Frames.text('stale'), INT(), sleep(1000)], {
      fakeTimers: vi,
      tickMs: 50,
    })
    expect(show(dropped.downstream)).toEqual(['start', 'startInterruption', 'end'])
    expect(vi.getTimerCount()).toBe(0)

    // The consumer stops while text is held (the processor is suspended at a yield): the timer goes with it.
    let closed = false
    const parked = async function* parked(): AsyncGenerator<Frame> {
      try {
        yield* [Frames.start(), Frames.text('held'), Frames.metrics(), Frames.text(' more')]
        await new Promise(() => {})
      } finally {
        closed = true
      }
    }
    const it = sentenceAggregator({ timeoutMs: 200 })(parked(), detachedContext())[Symbol.asyncIterator]()
    expect((await it.next()).value?.type).toBe('start')
    expect((await it.next()).value?.type).toBe('metrics')
    expect(vi.getTimerCount()).toBe(1)
    await it.return?.(undefined)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(0)
    expect(closed).toBe(true)
  })
})

describe('gatedAggregator', () => {
  const isImage = (f: Frame): boolean => f.type === 'imageRaw'
  const img = (): Frame => Frames.imageRaw({ image: new Uint8Array(3), size: [1, 1], format: null, mode: null })

  it('Python semantics: closed holds; the opening frame goes first, then the held frames; the closing frame is held', async () => {
    const g = gatedAggregator({ open: isImage, close: (f) => f.kind === 'data' && f.type === 'text' && f.text === 'close', startOpen: true })
    const { out } = await collect(g, [Frames.text('a'), Frames.text('close'), Frames.text('b'), img(), Frames.text('c')])
    expect(show(out)).toEqual(['start', 'a', 'imageRaw', 'close', 'b', 'c', 'end'])
  })

  it('down: system and control frames are never held (they pass while the gate is closed)', async () => {
    const g = gatedAggregator({ open: isImage, close: () => false })
    const { out } = await collect(g, [Frames.text('held'), Frames.metrics(), Frames.syncNotify(), Frames.sync()])
    expect(show(out)).toEqual(['start', 'metrics', 'syncNotify', 'sync', 'held', 'end'])
  })

  it('down: app frames go through the gate like data', async () => {
    const g = gatedAggregator({ open: isImage, close: () => false })
    const { out } = await collect(g, [Frames.app('note', 1), img()])
    expect(show(out)).toEqual(['start', 'imageRaw', 'note', 'end'])
  })

  it('end flushes the held frames before end (fixes the Python loss, P24)', async () => {
    const g = gatedAggregator({ open: isImage, close: () => false })
    const { out } = await collect(g, T('a', 'b'))
    expect(show(out)).toEqual(['start', 'a', 'b', 'end'])
  })

  it("atEnd: 'discard' drops them with an error report naming the frames", async () => {
    const held = T('a', 'b')
    const { out, ups } = await collect(gatedAggregator({ open: isImage, close: () => false, atEnd: 'discard' }), held)
    expect(show(out)).toEqual(['start', 'end'])
    const err = ups.find((f) => f.kind === 'system' && f.type === 'error')
    expect(err?.type === 'error' && err.error).toContain(`discarded 2 held frame(s) at end: ${held[0]?.name}, ${held[1]?.name}`)
  })

  it('a downstream interruption drops held data frames, keeps held app frames', async () => {
    const g = gatedAggregator({ open: isImage, close: () => false })
    const { out } = await collect(pipeline(interruptAt(), g), [Frames.text('stale'), Frames.app('note', 1), INT(), img()])
    expect(show(out)).toEqual(['start', 'startInterruption', 'imageRaw', 'note', 'end'])
    const keep = await collect(pipeline(interruptAt(), gatedAggregator({ open: isImage, close: () => false, interruption: 'keep' })), [Frames.text('kept'), INT()])
    expect(show(keep.out)).toEqual(['start', 'startInterruption', 'kept', 'end'])
  })

  it('up (default direction down): every upstream frame passes', async () => {
    const s = sampleFrames()
    const { ups } = await collect(pipeline(gatedAggregator({ open: () => false, close: () => false }), pushUpOnStart(() => [s.system, s.control, s.data, s.app])), [])
    expect(ups.map((f) => f.id)).toEqual([s.system.id, s.control.id, s.data.id, s.app.id])
  })

  it("direction: 'up' gates upstream data/app frames, passes system/control, and flushes them upstream at end", async () => {
    const s = sampleFrames()
    const g = gatedAggregator({ open: (f) => f.type === 'note', close: () => false, direction: 'up' })
    const { out, ups } = await collect(pipeline(g, pushUpOnStart(() => [Frames.text('u1'), s.system, s.control, s.app, Frames.text('u2')])), [Frames.text('down')])
    expect(show(out)).toEqual(['start', 'down', 'end'])
    expect(show(ups)).toEqual(['metrics', 'syncNotify', 'note', 'u1', 'u2'])
  })

  it('a throwing predicate is reported and leaves the gate as it was', async () => {
    const g = gatedAggregator({
      open: (f) => {
        if (f.kind === 'data' && f.type === 'text' && f.text === 'boom') throw new Error('open broke')
        return isImage(f)
      },
      close: () => false,
    })
    const { out, ups } = await collect(g, [Frames.text('boom'), img()])
    expect(show(out)).toEqual(['start', 'imageRaw', 'boom', 'end'])
    expect(ups.some((f) => f.kind === 'system' && f.type === 'error' && f.error === 'open broke')).toBe(true)
  })

  it('rejects bad options', () => {
    expect(() => gatedAggregator({} as never)).toThrow(TypeError)
    expect(() => gatedAggregator({ open: () => true, close: () => true, direction: 'both' as never })).toThrow(TypeError)
    expect(() => gatedAggregator({ open: () => true, close: () => true, atEnd: 'x' as never })).toThrow(TypeError)
  })
})

describe('holdFrames / holdLastFrame', () => {
  const released = (hold: typeof holdFrames, n: EventNotifier, opts = {}) =>
    pipeline(hold(n, { hold: ['text'], ...opts }), notifyOn(n, Frames.is('syncNotify')))

  it('holdFrames: start passes once; held text released in order by the notifier, inside the stream', async () => {
    const n = new EventNotifier()
    const { out } = await collect(released(holdFrames, n), [...T('a', 'b'), Frames.syncNotify(), Frames.text('c'), Frames.app('note', 1), Frames.syncNotify()])
    expect(show(out)).toEqual(['start', 'syncNotify', 'a', 'b', 'note', 'syncNotify', 'c', 'end'])
    expect(types(out).filter((t) => t === 'start')).toHaveLength(1)
  })

  it('holdLastFrame: only the most recent held frame is released', async () => {
    const n = new EventNotifier()
    const { out } = await collect(released(holdLastFrame, n), [...T('a', 'b', 'c'), Frames.syncNotify(), ...T('d', 'e')])
    expect(show(out)).toEqual(['start', 'syncNotify', 'c', 'e', 'end'])
  })

  it('end flushes what is still held (fixes P5); atEnd: discard reports it instead', async () => {
    const flush = await collect(holdFrames(new EventNotifier(), { hold: ['text'] }), T('x', 'y'))
    expect(show(flush.out)).toEqual(['start', 'x', 'y', 'end'])
    const discard = await collect(holdFrames(new EventNotifier(), { hold: ['text'], atEnd: 'discard' }), T('x'))
    expect(show(discard.out)).toEqual(['start', 'end'])
    expect(discard.ups.some((f) => f.kind === 'system' && f.type === 'error' && /discarded 1 held frame/.test(f.error))).toBe(true)
  })

  it('down: system and control frames are never held even when selected; app frames can be', async () => {
    const n = new EventNotifier()
    const { out } = await collect(
      holdFrames(n, { hold: () => true }),
      [Frames.metrics(), Frames.syncNotify(), Frames.sync(), Frames.app('note', 1)],
    )
    expect(show(out)).toEqual(['start', 'metrics', 'syncNotify', 'sync', 'note', 'end'])
    // `note` came out last: it was held and flushed at end
  })

  it('down: an interruption drops held data frames, keeps held app frames', async () => {
    const { out } = await collect(pipeline(interruptAt(), holdFrames(new EventNotifier(), { hold: (f) => f.type !== 'marker' })), [Frames.text('stale'), Frames.app('note', 1), INT()])
    expect(show(out)).toEqual(['start', 'startInterruption', 'note', 'end'])
  })

  it('up: every upstream frame passes untouched', async () => {
    const s = sampleFrames()
    const { ups } = await collect(pipeline(holdFrames(new EventNotifier(), { hold: () => true }), pushUpOnStart(() => [s.system, s.control, s.data, s.app])), [])
    expect(ups.map((f) => f.id)).toEqual([s.system.id, s.control.id, s.data.id, s.app.id])
  })

  it('a notification from outside the pipeline releases held frames while the input is idle', async () => {
    const n = new EventNotifier()
    let feed!: (f: Frame | null) => void
    const queue: (Frame | null)[] = []
    let waiting: ((v: void) => void) | undefined
    feed = (f) => {
      queue.push(f)
      waiting?.()
    }
    async function* input(): AsyncGenerator<Frame> {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => (waiting = r))
        const f = queue.shift()
        if (f === null || f === undefined) return
        yield f
      }
    }
    const seen: string[] = []
    const run = collect(
      pipeline(holdFrames(n, { hold: ['text'] }), async function* (source) {
        for await (const f of source) {
          seen.push(show([f])[0] as string)
          if (f.kind === 'data' && f.type === 'text') feed(null)
          yield f
        }
      }),
      input(),
    )
    feed(Frames.text('held'))
    await new Promise((r) => setTimeout(r, 10))
    expect(seen).toEqual(['start'])
    n.notify()
    const { out } = await run
    expect(show(out)).toEqual(['start', 'held', 'end'])
  })

  it('leaves no waiter on the notifier once the run is over', async () => {
    const n = new EventNotifier()
    await collect(released(holdFrames, n), T('a'))
    expect(n.waiting).toBe(0)
  })

  it('rejects bad arguments', () => {
    expect(() => holdFrames({} as never, { hold: ['text'] })).toThrow(/notifier/)
    expect(() => holdFrames(new EventNotifier(), { hold: [] })).toThrow(TypeError)
    expect(() => holdLastFrame(new EventNotifier(), { hold: ['text'], atEnd: 'x' as never })).toThrow(TypeError)
  })
})
