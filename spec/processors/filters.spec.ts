import { describe, expect, it } from 'vitest'
import { pipeline } from '../../lib/core/pipeline.js'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { frameTypeFilter } from '../../lib/processors/filters/frame-type-filter.js'
import { functionFilter } from '../../lib/processors/filters/function-filter.js'
import { LIFECYCLE_TYPES, isLifecycleFrame } from '../../lib/processors/filters/lifecycle.js'
import { nullFilter } from '../../lib/processors/filters/null-filter.js'
import { FatalError } from '../../lib/errors.js'
import { collect, pushUpOnStart, sampleFrames, texts, types } from './run-helpers.js'

const audio = (): Frame => Frames.audioRaw({ audio: new Uint8Array(4) })

describe('lifecycle frames', () => {
  it('are start, end, cancel, stopTask, error, metrics, sync', () => {
    expect([...LIFECYCLE_TYPES].sort()).toEqual(['cancel', 'end', 'error', 'metrics', 'start', 'stopTask', 'sync'])
    expect(isLifecycleFrame(Frames.sync())).toBe(true)
    expect(isLifecycleFrame(Frames.syncNotify())).toBe(false)
    expect(isLifecycleFrame(Frames.startInterruption())).toBe(false)
  })
})

describe('frameTypeFilter', () => {
  it('include keeps only the listed types (not the inverted Python semantics)', async () => {
    const { out } = await collect(frameTypeFilter({ include: ['text'] }), [Frames.text('a'), audio(), Frames.text('b')])
    expect(types(out)).toEqual(['start', 'text', 'text', 'end'])
  })

  it('exclude drops only the listed types', async () => {
    const { out } = await collect(frameTypeFilter({ exclude: ['text'] }), [Frames.text('a'), audio(), Frames.app('note', 1)])
    expect(types(out)).toEqual(['start', 'audioRaw', 'note', 'end'])
  })

  it('include and exclude together: included minus excluded', async () => {
    const f = frameTypeFilter({ include: ['text', 'audioRaw'], exclude: ['audioRaw'] })
    const { out } = await collect(f, [Frames.text('a'), audio(), Frames.app('note', 1)])
    expect(types(out)).toEqual(['start', 'text', 'end'])
  })

  it('an empty options object passes everything', async () => {
    const { out } = await collect(frameTypeFilter({}), [Frames.text('a'), audio()])
    expect(types(out)).toEqual(['start', 'text', 'audioRaw', 'end'])
  })

  describe('reaction table (include: [] keeps nothing but lifecycle)', () => {
    const f = () => frameTypeFilter({ include: ['nothing'] })
    it('down: system — lifecycle pass, interruption frames go by the lists', async () => {
      const m = Frames.metrics()
      const { out } = await collect(f(), [m, Frames.stopInterruption()])
      expect(out.map((x) => x.id)).toContain(m.id)
      expect(types(out)).not.toContain('stopInterruption')
      const inc = await collect(frameTypeFilter({ include: ['stopInterruption'] }), [Frames.stopInterruption()])
      expect(types(inc.out)).toContain('stopInterruption')
    })
    it('down: control — start/end/sync pass, syncNotify goes by the lists', async () => {
      const { out } = await collect(f(), [Frames.sync(), Frames.syncNotify()])
      expect(types(out)).toEqual(['start', 'sync', 'end'])
    })
    it('down: data and app go by the lists (app frames by their own type)', async () => {
      const { out } = await collect(f(), [Frames.text('a'), Frames.app('note', 1)])
      expect(types(out)).toEqual(['start', 'end'])
      const kept = await collect(frameTypeFilter({ include: ['note'] }), [Frames.text('a'), Frames.app('note', 1)])
      expect(types(kept.out)).toEqual(['start', 'note', 'end'])
    })
    it('up: lifecycle pass, data/app/syncNotify go by the lists', async () => {
      const s = sampleFrames()
      const { ups } = await collect(pipeline(f(), pushUpOnStart(() => [s.system, s.control, s.data, s.app])), [])
      expect(types(ups)).toEqual(['metrics'])
      const kept = await collect(
        pipeline(frameTypeFilter({ include: ['text', 'note', 'syncNotify'] }), pushUpOnStart(() => [s.system, s.control, s.data, s.app])),
        [],
      )
      expect(types(kept.ups)).toEqual(['metrics', 'syncNotify', 'text', 'note'])
    })
  })

  it('passLifecycle: false subjects lifecycle frames to the lists too', async () => {
    const seen: string[] = []
    const { out } = await collect(
      pipeline(frameTypeFilter({ include: ['text'], passLifecycle: false }), async function* (source) {
        for await (const x of source) {
          seen.push(x.type)
          yield x
        }
      }),
      [Frames.text('a'), Frames.sync()],
    )
    expect(seen).toEqual(['text'])
    expect(types(out)).toEqual(['text'])
  })

  it("direction: 'down' leaves upstream frames alone", async () => {
    const s = sampleFrames()
    const { out, ups } = await collect(
      pipeline(frameTypeFilter({ include: ['nothing'], direction: 'down' }), pushUpOnStart(() => [s.data, s.app])),
      [Frames.text('x')],
    )
    expect(types(out)).toEqual(['start', 'end'])
    expect(types(ups)).toEqual(['text', 'note'])
  })

  it('is fused with its neighbours (it carries a step)', async () => {
    const { processorInfo } = await import('../../lib/core/processor.js')
    expect(processorInfo(frameTypeFilter({ include: ['text'] }))?.step).toBeTypeOf('function')
  })

  it('rejects bad options with a TypeError', () => {
    expect(() => frameTypeFilter(null as never)).toThrow(TypeError)
    expect(() => frameTypeFilter({ include: 'text' as never })).toThrow(/include must be an array/)
    expect(() => frameTypeFilter({ exclude: [''] })).toThrow(TypeError)
    expect(() => frameTypeFilter({ direction: 'sideways' as never })).toThrow(/direction/)
    expect(() => frameTypeFilter({ passLifecycle: 1 as never })).toThrow(/passLifecycle/)
  })
})

describe('nullFilter', () => {
  it('down: drops data, app, syncNotify and interruptions; keeps lifecycle', async () => {
    const m = Frames.metrics()
    // System frames jump the task's input queue, so they are given first to keep the expected order exact.
    const { out } = await collect(nullFilter(), [
      m,
      Frames.stopInterruption(),
      Frames.text('a'),
      Frames.app('note', 1),
      Frames.syncNotify(),
      Frames.sync(),
    ])
    expect(types(out)).toEqual(['start', 'metrics', 'sync', 'end'])
  })

  it('up: keeps lifecycle frames only', async () => {
    const s = sampleFrames()
    const err = Frames.error('x')
    const { ups } = await collect(pipeline(nullFilter(), pushUpOnStart(() => [s.system, s.control, s.data, s.app, err])), [])
    expect(ups.map((f) => f.id)).toEqual([s.system.id, err.id])
  })

  it('passLifecycle: false drops everything (the Python NullFilter)', async () => {
    const seen: string[] = []
    await collect(
      pipeline(nullFilter({ passLifecycle: false }), async function* (source) {
        for await (const x of source) {
          seen.push(x.type)
          yield x
        }
      }),
      [Frames.text('a')],
    )
    expect(seen).toEqual([])
  })
})

describe('functionFilter', () => {
  const isShort = (f: Frame): boolean => f.kind !== 'data' || f.kind !== 'data' || f.type !== 'text' || f.text.length < 3

  it('sync predicate: keeps what it accepts, in order', async () => {
    const { out } = await collect(functionFilter(isShort), ['a', 'long', 'bb', 'longer'].map((t) => Frames.text(t)))
    expect(texts(out)).toEqual(['a', 'bb'])
  })

  it('async predicate: awaited per frame, order kept even when later answers come first', async () => {
    const delays = [30, 1, 10, 0]
    let i = 0
    const f = functionFilter(async (frame) => {
      if (frame.type !== 'text') return true
      const d = delays[i++] ?? 0
      await new Promise((r) => setTimeout(r, d))
      return frame.kind !== 'data' || frame.type !== 'text' || frame.text !== 'drop'
    })
    const { out } = await collect(f, ['a', 'drop', 'b', 'c'].map((t) => Frames.text(t)))
    expect(texts(out)).toEqual(['a', 'b', 'c'])
  })

  it('down: system frames always pass without asking; start/end/sync pass; syncNotify, data and app are asked', async () => {
    const asked: string[] = []
    const f = functionFilter((frame) => {
      asked.push(frame.type)
      return false
    })
    const { out } = await collect(f, [Frames.metrics(), Frames.stopInterruption(), Frames.sync(), Frames.syncNotify(), Frames.text('a'), Frames.app('note', 1)])
    expect(asked).toEqual(['syncNotify', 'text', 'note'])
    expect(types(out)).toEqual(['start', 'metrics', 'stopInterruption', 'sync', 'end'])
  })

  it('passLifecycle: false asks about start/end/sync too (system frames still pass)', async () => {
    const asked: string[] = []
    const f = functionFilter(
      (frame) => {
        asked.push(frame.type)
        return frame.type !== 'sync'
      },
      { passLifecycle: false },
    )
    const { out } = await collect(f, [Frames.sync(), Frames.metrics()])
    expect(asked).toEqual(['start', 'sync', 'end'])
    expect(types(out)).toEqual(['start', 'metrics', 'end'])
  })

  for (const mode of ['sync', 'async'] as const) {
    it(`up (${mode}): system frames pass unasked; control/data/app are asked with direction 'up'`, async () => {
      const asked: string[] = []
      const body = (frame: Frame, info: { direction: string }): boolean => {
        if (info.direction === 'up') asked.push(frame.type)
        return frame.type === 'note'
      }
      const f = mode === 'sync' ? functionFilter(body) : functionFilter(async (frame, info) => body(frame, info))
      const s = sampleFrames()
      const { ups } = await collect(pipeline(f, pushUpOnStart(() => [s.system, s.control, s.data, s.app])), [])
      expect(asked).toEqual(['syncNotify', 'text', 'note'])
      expect(types(ups)).toEqual(['metrics', 'note'])
    })
  }

  it('async upstream: frames keep their order while an earlier answer is pending', async () => {
    const f = functionFilter(async (frame) => {
      if (frame.kind === 'data' && frame.type === 'text' && frame.text === 'slow') await new Promise((r) => setTimeout(r, 20))
      return true
    })
    let release!: () => void
    const done = new Promise<void>((r) => (release = r))
    const ups: string[] = []
    await collect(
      pipeline(f, async function* (source, ctx) {
        for await (const x of source) {
          if (x.type === 'start') {
            ctx.pushUpstream(Frames.text('slow'))
            ctx.pushUpstream(Frames.text('fast'))
            ctx.pushUpstream(Frames.metrics())
            await new Promise((r) => setTimeout(r, 40))
            release()
          }
          yield x
        }
      }),
      [],
      { onUpstream: (x) => ups.push(x.kind === 'data' && x.type === 'text' ? x.text : x.type) },
    )
    await done
    expect(ups).toEqual(['metrics', 'slow', 'fast'])
  })

  it('the predicate gets the stage signal', async () => {
    let signal: AbortSignal | undefined
    await collect(
      functionFilter(async (_f, info) => {
        signal = info.signal
        return true
      }),
      [Frames.text('a')],
    )
    expect(signal).toBeInstanceOf(AbortSignal)
  })

  it('a throwing predicate drops that frame and reports an error naming the stage; the rest goes on', async () => {
    const f = functionFilter((frame) => {
      if (frame.kind === 'data' && frame.type === 'text' && frame.text === 'bad') throw new Error('nope')
      return true
    })
    const { out, ups, result } = await collect(f, ['a', 'bad', 'b'].map((t) => Frames.text(t)))
    expect(texts(out)).toEqual(['a', 'b'])
    expect(result.status).toBe('ended')
    const err = ups.find((x) => x.kind === 'system' && x.type === 'error')
    expect(err && err.kind === 'system' && err.type === 'error' && err.error).toBe('nope')
    expect(err && err.kind === 'system' && err.type === 'error' && err.processor).toMatch(/functionFilter/)
  })

  it('an async predicate that rejects is reported the same way', async () => {
    const f = functionFilter(async (frame) => {
      if (frame.kind === 'data' && frame.type === 'text' && frame.text === 'bad') throw new Error('async nope')
      return true
    })
    const { out, ups } = await collect(f, ['a', 'bad', 'b'].map((t) => Frames.text(t)))
    expect(texts(out)).toEqual(['a', 'b'])
    expect(ups.some((x) => x.kind === 'system' && x.type === 'error' && x.error === 'async nope')).toBe(true)
  })

  it('a FatalError ends the task errored', async () => {
    const f = functionFilter(() => {
      throw new FatalError('stop')
    })
    await expect(collect(f, [Frames.text('a')])).rejects.toThrow(/stop/)
  })

  it('a sync predicate returning a promise or a non-boolean is a reported TypeError', async () => {
    const f = functionFilter(((frame: Frame) => (frame.kind === 'data' && frame.type === 'text' ? Promise.resolve(true) : true)) as never)
    const { out, ups } = await collect(f, [Frames.text('a')])
    expect(texts(out)).toEqual([])
    expect(ups.some((x) => x.kind === 'system' && x.type === 'error' && /declare it `async`/.test(x.error))).toBe(true)
    const g = functionFilter(((frame: Frame) => (frame.kind === 'data' && frame.type === 'text' ? 'yes' : true)) as never)
    const r = await collect(g, [Frames.text('a')])
    expect(r.ups.some((x) => x.kind === 'system' && x.type === 'error' && /must return a boolean/.test(x.error))).toBe(true)
  })

  it('{ async: true } awaits a non-async function that returns promises', async () => {
    const f = functionFilter((frame) => Promise.resolve(frame.kind !== 'data' || frame.type !== 'text' || frame.text === 'keep'), { async: true })
    const { out } = await collect(f, ['keep', 'drop'].map((t) => Frames.text(t)))
    expect(texts(out)).toEqual(['keep'])
  })

  it('rejects a predicate that is not a function', () => {
    expect(() => functionFilter('x' as never)).toThrow(TypeError)
    expect(() => functionFilter(() => true, { async: 'yes' as never })).toThrow(TypeError)
  })
})
