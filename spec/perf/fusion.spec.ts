/**
 * Stage fusion must not change what a pipeline does: a pipeline whose per-frame operators are fused produces the
 * same output frames, the same error frames and the same upstream frames as the same pipeline with every operator
 * run as a stage of its own (`unfused`), for random frame sequences and random operator chains.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { unfused } from '../../lib/core/fuse.js'
import { Channel } from '../../lib/internal/channel.js'
import {
  filter,
  flatMap,
  Frames,
  map,
  pipeline,
  processorInfo,
  run,
  tap,
  type Frame,
  type Processor, type ProcessorFn,
} from '../../lib/index.js'

type OpName = 'suffix' | 'keepEven' | 'split' | 'throwMap' | 'throwFilter' | 'throwTap' | 'pushUp' | 'generator'
const OPS: readonly OpName[] = ['suffix', 'keepEven', 'split', 'throwMap', 'throwFilter', 'throwTap', 'pushUp', 'generator']

const textOf = (f: Frame): string | undefined => (f.kind === 'data' && f.type === 'text' ? f.text : undefined)

/** Builds operator `op` (a fresh processor each call). Every behaviour is a pure function of the frame. */
function build(op: OpName): Processor {
  switch (op) {
    case 'suffix':
      return map((f) => {
        const t = textOf(f)
        return t === undefined ? f : Frames.text(`${t}s`)
      }, 'suffix')
    case 'keepEven':
      return filter((f) => (textOf(f)?.length ?? 0) % 2 === 0, 'keepEven')
    case 'split':
      return flatMap((f) => {
        const t = textOf(f)
        if (t === undefined) return [f]
        if (t.startsWith('b')) return []
        return [f, Frames.text(`${t}d`)]
      }, 'split')
    case 'throwMap':
      return map((f) => {
        if (textOf(f)?.includes('x') === true) throw new Error(`map cannot take ${textOf(f)}`)
        return f
      }, 'throwMap')
    case 'throwFilter':
      return filter((f) => {
        if (textOf(f)?.length === 3) throw new Error(`filter cannot take ${textOf(f)}`)
        return true
      }, 'throwFilter')
    case 'throwTap':
      return tap((f) => {
        if (textOf(f)?.endsWith('a') === true) throw new Error(`tap cannot take ${textOf(f)}`)
      }, 'throwTap')
    case 'pushUp':
      return tap((f, ctx) => {
        const t = textOf(f)
        if (t !== undefined && t.startsWith('a')) ctx.pushUpstream(Frames.app('seen', { by: ctx.name, t }))
      }, 'pushUp')
    case 'generator':
      return Object.defineProperty(
        async function* (source: AsyncIterable<Frame>) {
          for await (const f of source) {
            const t = textOf(f)
            yield t === undefined ? f : Frames.text(`${t}g`)
          }
        },
        'name',
        { value: 'generator' },
      ) as Processor
  }
}

/** A comparable form of a frame: its type and text (ids differ between runs). */
function shape(f: Frame): string {
  const t = textOf(f)
  if (t !== undefined) return `text:${t}`
  if (f.kind === 'app') return `${f.type}:${JSON.stringify((f as { data?: unknown }).data)}`
  return f.type
}

interface Observed {
  readonly out: string[]
  /**
   * Upstream frames per processor (error frames by the processor they name, pushed frames by the stage that pushed
   * them): stages run concurrently, so only the order of one stage's frames is defined.
   */
  readonly up: Record<string, string[]>
  readonly status: string
}

async function observe(processor: ProcessorFn, input: readonly Frame[], breakAfter?: number): Promise<Observed> {
  const up: Record<string, string[]> = {}
  const handle = run(processor, input, {
    name: 'fusion',
    onUpstream: (f) => {
      if (f.kind === 'system' && f.type === 'error') {
        ;(up[f.processor ?? 'unnamed'] ??= []).push(`error:${f.error}:${String(f.fatal)}`)
      } else if (f.kind === 'app' && f.type === 'seen') {
        const seen = f.data as { by: string; t: string }
        ;(up[seen.by] ??= []).push(seen.t)
      } else (up['other'] ??= []).push(shape(f))
    },
  })
  const out: string[] = []
  for await (const f of handle) {
    out.push(shape(f))
    if (breakAfter !== undefined && out.length >= breakAfter) break
  }
  const result = await handle.result
  return { out, up, status: result.status }
}

const inputArb = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.stringMatching(/^[abx]{0,4}$/).map((t) => Frames.text(t) as Frame) },
    { weight: 1, arbitrary: fc.nat(9).map((n) => Frames.app('marker', n) as Frame) },
  ),
  { maxLength: 40 },
)
const chainArb = fc.array(fc.constantFrom(...OPS), { minLength: 1, maxLength: 7 })

const fusedPipeline = (ops: readonly OpName[]): Processor => pipeline(...ops.map(build))
const unfusedPipeline = (ops: readonly OpName[]): Processor => pipeline(...ops.map((op) => unfused(build(op))))

describe('stage fusion', () => {
  it('fused and unfused pipelines give identical outputs, error frames and upstream frames', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, inputArb, async (ops, input) => {
        const fused = await observe(fusedPipeline(ops), input)
        const separate = await observe(unfusedPipeline(ops), input)
        expect(fused).toEqual(separate)
        expect(fused.status).toBe('ended')
        expect(fused.out[0]).toBe('start')
        expect(fused.out[fused.out.length - 1]).toBe('end')
      }),
      { numRuns: 150 },
    )
  })

  it('fused and unfused pipelines agree on the frames before an early break, and both tear down', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, inputArb, fc.integer({ min: 1, max: 20 }), async (ops, input, k) => {
        const outcomes: Observed[] = []
        for (const variant of [fusedPipeline, unfusedPipeline]) {
          const probe = { finished: 0 }
          const observed: Processor = async function* (source) {
            try {
              yield* source
            } finally {
              probe.finished++
            }
          }
          const outcome = await observe(pipeline(observed, variant(ops)), input, k)
          // Teardown is not awaited by the end of the run; give it a bounded number of turns.
          for (let turn = 0; turn < 100 && probe.finished === 0; turn++) await new Promise((r) => setImmediate(r))
          expect(probe.finished).toBe(1)
          expect(['ended', 'cancelled']).toContain(outcome.status)
          outcomes.push(outcome)
        }
        const [fused, separate] = outcomes as [Observed, Observed]
        expect(fused.out).toEqual(separate.out)
        expect(fused.out.length).toBeLessThanOrEqual(k)
      }),
      { numRuns: 100 },
    )
  })

  it('matches a plain synchronous model of the steps', async () => {
    // The model: each frame goes through every op in order; errors are recorded per op.
    const model = (ops: readonly OpName[], input: readonly Frame[]): string[] => {
      let frames: (string | undefined)[] = input.map((f) => (textOf(f) === undefined ? `#${shape(f)}` : textOf(f)))
      for (const op of ops) {
        const next: (string | undefined)[] = []
        for (const t of frames) {
          if (t === undefined) continue
          if (t.startsWith('#')) {
            // Non-text frames pass every op unchanged.
            next.push(t)
            continue
          }
          switch (op) {
            case 'suffix':
              next.push(`${t}s`)
              break
            case 'keepEven':
              if (t.length % 2 === 0) next.push(t)
              break
            case 'split':
              if (!t.startsWith('b')) next.push(t, `${t}d`)
              break
            case 'throwMap':
              if (!t.includes('x')) next.push(t)
              break
            case 'throwFilter':
              if (t.length !== 3) next.push(t)
              break
            case 'generator':
              next.push(`${t}g`)
              break
            default:
              next.push(t)
          }
        }
        frames = next
      }
      return frames.flatMap((t) => (t === undefined ? [] : [t.startsWith('#') ? t.slice(1) : `text:${t}`]))
    }
    await fc.assert(
      fc.asyncProperty(chainArb, inputArb, async (ops, input) => {
        const fused = await observe(fusedPipeline(ops), input)
        expect(fused.out).toEqual(['start', ...model(ops, input), 'end'])
      }),
      { numRuns: 100 },
    )
  })

  it('fuses consecutive per-frame operators, and unfused() removes the step so nothing is fused', () => {
    const m = map((f: Frame) => f, 'm')
    expect(processorInfo(m)?.step).toBeTypeOf('function')
    const u = unfused(m)
    expect(processorInfo(u)?.step).toBeUndefined()
    expect(processorInfo(u)?.name).toBe('m')
    const general: Processor = async function* (source) {
      yield* source
    }
    expect(unfused(general)).toBe(general)
    expect(() => unfused(42 as unknown as Processor)).toThrow(TypeError)
  })

  it('a fused stage over a channel takes every queued frame without an async hop, and reads nothing ahead', async () => {
    const source = new Channel<Frame>(8)
    const frames = Array.from({ length: 5 }, (_, i) => Frames.text(String(i)))
    for (const f of frames) source.push(f)
    const stage = pipeline(
      map((f: Frame) => f),
      filter((f: Frame) => textOf(f) !== '2'),
    )
    const it = stage(source, undefined as never)[Symbol.asyncIterator]() as AsyncIterator<Frame> & {
      tryNext(): IteratorResult<Frame> | undefined
    }
    expect(typeof it.tryNext).toBe('function')
    const first = it.tryNext()
    expect(first).toEqual({ done: false, value: frames[0] })
    // Only the frame that was asked for left the channel.
    expect(source.size).toBe(4)
    const rest: string[] = []
    for (let r = it.tryNext(); r !== undefined && r.done !== true; r = it.tryNext()) rest.push(textOf(r.value) ?? '')
    expect(rest).toEqual(['1', '3', '4'])
    expect(source.size).toBe(0)
    expect(it.tryNext()).toBeUndefined()
    const later = it.next()
    source.push(Frames.text('5'))
    expect(textOf(((await later) as IteratorYieldResult<Frame>).value)).toBe('5')
    source.close()
    expect(await it.next()).toEqual({ done: true, value: undefined })
  })

  it('concurrent next() calls on a fused stage resolve in order, as on a generator', async () => {
    const source = new Channel<Frame>(8)
    const keepOdd = filter((f: Frame) => Number(textOf(f)) % 2 === 1)
    const it = keepOdd(source, undefined as never)[Symbol.asyncIterator]()
    const requests = [it.next(), it.next(), it.next()]
    for (let i = 0; i < 6; i++) source.push(Frames.text(String(i)))
    source.close()
    const got = await Promise.all(requests)
    expect(got.map((r) => (r.done === true ? 'done' : textOf(r.value)))).toEqual(['1', '3', '5'])
    expect(await it.next()).toEqual({ done: true, value: undefined })
  })

  it('a fused operator used outside a pipeline behaves like an async generator over its source', async () => {
    let closed = false
    let failAt = -1
    async function* source(): AsyncGenerator<Frame> {
      try {
        for (let i = 0; i < 5; i++) {
          if (i === failAt) throw new Error('source broke')
          yield Frames.text(String(i))
        }
      } finally {
        closed = true
      }
    }
    const double = flatMap((f: Frame) => [f, f])
    // Early return closes the source.
    const it = double(source(), undefined as never)[Symbol.asyncIterator]()
    expect(textOf(((await it.next()) as IteratorYieldResult<Frame>).value)).toBe('0')
    await it.return?.()
    expect(closed).toBe(true)
    expect(await it.next()).toEqual({ done: true, value: undefined })
    // A failing source ends the iterator with its error, after the frames before it.
    failAt = 2
    const seen: string[] = []
    await expect(
      (async () => {
        for await (const f of double(source(), undefined as never)) seen.push(textOf(f) ?? '')
      })(),
    ).rejects.toThrow('source broke')
    expect(seen).toEqual(['0', '0', '1', '1'])
  })
})
