import { describe, expect, it } from 'vitest'
import { sequential } from '../../lib/combinators/sequential.js'
import { Frames, PipelineError, run, type Frame, type Processor } from '../../lib/index.js'
import { collect, label, mapText, texts, ticks, tracked } from './helpers.js'

const identity: Processor = async function* identity(source) {
  yield* source
}

describe('sequential: concatenated outputs', () => {
  it('emits all of the first pipeline output, then the second, with start first and end last, once', async () => {
    const slowFirst: Processor = async function* slowFirst(source) {
      for await (const f of source) {
        await ticks(2)
        yield f.type === 'text' ? Frames.text(`A${label(f)}`) : f
      }
    }
    const { labels, result } = await collect(sequential(slowFirst, mapText((t) => `B${t}`), mapText((t) => `C${t}`)), texts('1', '2', '3'))
    expect(result.status).toBe('ended')
    expect(labels).toEqual(['start', 'A1', 'A2', 'A3', 'B1', 'B2', 'B3', 'C1', 'C2', 'C3', 'end'])
  })

  it('keeps the copies of a frame that passes through several pipelines (concatenation, no de-duplication)', async () => {
    const input = texts('x')
    const { frames } = await collect(sequential(identity, identity), input)
    expect(frames.map(label)).toEqual(['start', 'x', 'x', 'end'])
  })

  it('moves on when a pipeline swallows end or finishes early', async () => {
    const early: Processor = async function* early() {
      yield Frames.text('early')
    }
    const noEnd: Processor = async function* noEnd(source) {
      for await (const f of source) if (f.type !== 'end') yield f.type === 'text' ? Frames.text(`n${label(f)}`) : f
    }
    const { labels } = await collect(sequential(noEnd, early, identity), texts('1'))
    expect(labels).toEqual(['start', 'n1', 'early', '1', 'end'])
  })

  it('emits system frames from any pipeline at once, once per id', async () => {
    const gate: { open?: () => void } = {}
    const blocker: Processor = async function* blocker(source) {
      for await (const f of source) {
        if (f.type === 'text') await new Promise<void>((r) => (gate.open = r))
        yield f
      }
    }
    const metrics = Frames.metrics({ ttfb: [{ processor: 'x', value: 1 }] })
    const reporter: Processor = async function* reporter(source) {
      for await (const f of source) {
        if (f.type === 'text') yield metrics
        yield f
      }
    }
    const seen: string[] = []
    for await (const f of run(sequential(blocker, reporter, reporter), texts('1'))) {
      seen.push(label(f))
      if (f.type === 'metrics') gate.open?.()
    }
    expect(seen).toEqual(['start', 'metrics', '1', '1', '1', 'end'])
  })

  it('fails with a FatalError instead of buffering more than maxBuffered frames', async () => {
    const counter = { finals: 0 }
    const never: Processor = async function* never(source) {
      for await (const f of source) if (f.type === 'start') yield f
      // keeps reading but never ends before the input does
    }
    async function* many(): AsyncGenerator<Frame> {
      for (let i = 0; i < 1000; i++) yield Frames.text(String(i))
      await new Promise(() => {})
    }
    const handle = run(sequential({ maxBuffered: 50 }, tracked(counter, never), tracked(counter, identity)), many(), {
      cancelTimeoutMs: 50,
    })
    let error: unknown
    try {
      for await (const _ of handle) void _
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(PipelineError)
    expect(String(error)).toMatch(/maxBuffered/)
    expect((await handle.result).status).toBe('errored')
    await ticks(5)
    expect(counter.finals).toBe(2)
  })

  it('rejects bad options', () => {
    expect(() => sequential({ maxBuffered: -1 }, identity)).toThrow(TypeError)
    expect(() => sequential()).toThrow(TypeError)
  })
})
