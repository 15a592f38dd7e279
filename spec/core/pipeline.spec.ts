import { describe, expect, it } from 'vitest'
import {
  filter,
  flatMap,
  FatalError,
  Frames,
  map,
  named,
  pipeline,
  PipelineError,
  run,
  tap,
  type Frame,
  type Processor, type ProcessorFn,
} from '../../lib/index.js'
import { collect, textFrames, texts, types } from '../helpers/collect.js'

const suffix = (s: string): Processor =>
  named(`suffix${s}`, async function* (source) {
    for await (const f of source) yield f.kind === 'data' && f.type === 'text' ? Frames.text(f.text + s) : f
  })

describe('pipeline()', () => {
  it('runs stages in order and keeps FIFO order of data and control frames', async () => {
    const { out } = await collect(pipeline(suffix('a'), suffix('b'), suffix('c')), textFrames(50))
    expect(texts(out)).toEqual(Array.from({ length: 50 }, (_, i) => `${i}abc`))
    expect(out[0]?.type).toBe('start')
    expect(out.at(-1)?.type).toBe('end')
  })

  it('nests: a pipeline is a processor', async () => {
    const inner = pipeline(suffix('b'), suffix('c'))
    const { out } = await collect(pipeline(suffix('a'), inner, pipeline(pipeline(suffix('d')))), textFrames(3))
    expect(texts(out)).toEqual(['0abcd', '1abcd', '2abcd'])
  })

  it('pipeline() with no stages is the identity', async () => {
    const { out } = await collect(pipeline(), textFrames(3))
    expect(texts(out)).toEqual(['0', '1', '2'])
  })

  it('rejects stages that are not functions with a TypeError', () => {
    expect(() => pipeline(suffix('a'), 42 as unknown as Processor)).toThrow(TypeError)
    expect(() => pipeline(null as unknown as Processor)).toThrow(/stage 0/)
  })

  it('works as a plain it-pipe style transform without a context', async () => {
    async function* src(): AsyncGenerator<Frame> {
      yield Frames.text('x')
    }
    const out: Frame[] = []
    for await (const f of pipeline(suffix('1'), map((f) => f))(src(), undefined as never)) out.push(f)
    expect(texts(out)).toEqual(['x1'])
  })
})

describe('per-frame operators', () => {
  it('map, filter, tap and flatMap compose', async () => {
    const seen: string[] = []
    const p = pipeline(
      map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f)),
      filter((f) => f.kind !== 'data' || f.type !== 'text' || f.text !== 'B'),
      tap((f) => {
        if (f.kind === 'data' && f.type === 'text') seen.push(f.text)
      }),
      flatMap((f): Frame[] => (f.kind === 'data' && f.type === 'text' ? [f, Frames.text(`${f.text}!`)] : [f])),
    )
    const { out } = await collect(p, ['a', 'b', 'c'].map((t) => Frames.text(t)))
    expect(texts(out)).toEqual(['A', 'A!', 'C', 'C!'])
    expect(seen).toEqual(['A', 'C'])
  })

  it('filter never drops system frames, start or end', async () => {
    const { out } = await collect(filter(() => false), [Frames.text('x'), Frames.metrics(), Frames.sync()])
    expect(types(out)).toEqual(['start', 'metrics', 'end'])
  })

  it('a throwing step drops only that frame and reports it upstream naming the step', async () => {
    const p = pipeline(
      map((f) => {
        if (f.kind === 'data' && f.type === 'text' && f.text === '1') throw new Error('no ones')
        return f
      }, 'picky'),
      suffix('!'),
    )
    const { out, up, result } = await collect(p, textFrames(3))
    expect(texts(out)).toEqual(['0!', '2!'])
    const errors = up.filter(Frames.is('error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ error: 'no ones', fatal: false })
    expect(errors[0]?.processor).toMatch(/picky$/)
    expect(result.status).toBe('ended')
    expect(result.errors).toHaveLength(1)
  })

  it('operators validate their argument', () => {
    expect(() => map(3 as never)).toThrow(TypeError)
    expect(() => filter('x' as never)).toThrow(TypeError)
    expect(() => tap(undefined as never)).toThrow(TypeError)
    expect(() => flatMap({} as never)).toThrow(TypeError)
  })
})

describe('errors in processors (rule 6)', () => {
  it('an exception in the middle stage of three becomes an upstream error frame and the pipeline goes on', async () => {
    const finallies: string[] = []
    const middle: Processor = async function* middle(source) {
      try {
        for await (const f of source) {
          if (f.kind === 'data' && f.type === 'text' && f.text === '2a') throw new Error('middle broke')
          yield f
        }
      } finally {
        finallies.push('middle')
      }
    }
    const seenUp: string[] = []
    const first: ProcessorFn = async function* first(source, ctx) {
      ctx.onUpstream((f, next) => {
        seenUp.push(f.type)
        next(f)
      })
      for await (const f of source) yield f.kind === 'data' && f.type === 'text' ? Frames.text(`${f.text}a`) : f
    }
    const { out, up, result } = await collect(pipeline(first, middle, suffix('c')), textFrames(5))
    expect(texts(out)).toEqual(['0ac', '1ac', '3ac', '4ac'])
    expect(types(out).at(-1)).toBe('end')
    const err = up.find(Frames.is('error'))
    expect(err).toMatchObject({ error: 'middle broke', fatal: false })
    expect(err?.processor).toMatch(/\/middle$/)
    expect(seenUp).toEqual(['error'])
    // the failed instance and the restarted one both ran their finally
    expect(finallies).toEqual(['middle', 'middle'])
    expect(result.status).toBe('ended')
  })

  it('a FatalError ends the run as errored and run() throws a PipelineError', async () => {
    const fatal: Processor = async function* fatal(source) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text === '1') throw new FatalError('cannot go on')
        yield f
      }
    }
    const handle = run(fatal, textFrames(5))
    const out: Frame[] = []
    await expect(
      (async () => {
        for await (const f of handle) out.push(f)
      })(),
    ).rejects.toThrow(PipelineError)
    const result = await handle.result
    expect(result.status).toBe('errored')
    expect(result.error).toMatchObject({ error: 'cannot go on', fatal: true })
    expect(texts(out)).not.toContain('2')
  })

  it('a processor that throws before reading any input is fatal', async () => {
    const broken: Processor = async function* broken() {
      throw new Error('misconfigured')
    }
    const handle = run(broken, textFrames(2))
    await expect(
      (async () => {
        for await (const _ of handle) void _
      })(),
    ).rejects.toThrow(/misconfigured/)
    expect((await handle.result).status).toBe('errored')
  })

  it('a processor that does not return an async iterable is reported', async () => {
    const wrong = (() => 42) as unknown as Processor
    const handle = run(wrong, textFrames(1))
    await expect(
      (async () => {
        for await (const _ of handle) void _
      })(),
    ).rejects.toThrow(/did not return an AsyncIterable/)
  })

  it('an upstream error frame marked fatal ends the task', async () => {
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.error('model down', { fatal: true }))
        yield f
      }
    }
    const handle = run(p, textFrames(3))
    await expect(
      (async () => {
        for await (const _ of handle) void _
      })(),
    ).rejects.toThrow(/model down/)
    expect((await handle.result).error?.error).toBe('model down')
  })
})

describe('upstream (rule 7)', () => {
  it('earlier stages see upstream frames in reverse order, then the task, exactly once', async () => {
    const log: string[] = []
    const observer = (label: string): ProcessorFn =>
      named(label, async function* (source, ctx) {
        ctx.onUpstream((f, next) => {
          log.push(`${label}:${f.type}`)
          next(f)
        })
        yield* source
      })
    const pusher: ProcessorFn = async function* pusher(source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.app('ping', f.text))
        yield f
      }
    }
    const { up } = await collect(pipeline(observer('a'), observer('b'), pusher, observer('c')), textFrames(1))
    expect(log).toEqual(['b:ping', 'a:ping'])
    expect(up.filter(Frames.isApp)).toHaveLength(1)
  })

  it('an upstream handler can swallow or replace frames', async () => {
    const swallow: ProcessorFn = async function* swallow(source, ctx) {
      ctx.onUpstream((f, next) => {
        if (f.kind === 'app' && f.type === 'secret') return
        next(f.kind === 'app' ? Frames.app('seen', f.data) : f)
      })
      yield* source
    }
    const pusher: ProcessorFn = async function* pusher(source, ctx) {
      for await (const f of source) {
        if (f.type === 'text') {
          ctx.pushUpstream(Frames.app('secret', 1))
          ctx.pushUpstream(Frames.app('open', 2))
        }
        yield f
      }
    }
    const { up } = await collect(pipeline(swallow, pusher), textFrames(1))
    expect(up.filter(Frames.isApp).map((f) => [f.type, (f as { data: unknown }).data])).toEqual([['seen', 2]])
  })
})
