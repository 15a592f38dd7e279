import { Readable, Writable } from 'node:stream'
import { pipeline as streamPipeline } from 'node:stream/promises'
import { pipe } from 'it-pipe'
import itMap from 'it-map'
import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineError,
  detachedContext,
  filter,
  map,
  parallel,
  pipeline,
  toNodeWritable,
  toWritable,
  type ErrorFrame,
  type Frame,
  type ProcessorFn,
} from '../../lib/index.js'

const texts = (...words: string[]): Frame[] => words.map((w) => Frames.text(w))
const textOf = (frames: readonly Frame[]): string[] => frames.map((f) => (f.type === 'text' ? f.text : f.type))

async function drain(iterable: AsyncIterable<Frame>): Promise<Frame[]> {
  const out: Frame[] = []
  for await (const f of iterable) out.push(f)
  return out
}

const upper = map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
const exclaim: ProcessorFn = async function* exclaim(source) {
  for await (const f of source) yield f.type === 'text' ? Frames.text(`${f.text}!`) : f
}
const failsOn = (word: string) =>
  map((f) => {
    if (f.type === 'text' && f.text === word) throw new Error(`cannot take ${word}`)
    return f
  }, 'failsOn')

describe('processors in it-pipe', () => {
  it('pipe(source, pipeline(a, b), sink) runs with no glue, on the sync iterable it-map makes of an array', async () => {
    const source = itMap(['a', 'b', 'c'], (w) => Frames.text(w))
    const out = await pipe(source, pipeline(upper, exclaim), (s) => drain(s))
    expect(textOf(out)).toEqual(['A!', 'B!', 'C!'])
  })

  it('every library processor takes a sync iterable and no context', async () => {
    expect(textOf(await drain(upper(texts('x'))))).toEqual(['X'])
    expect(textOf(await drain(filter((f) => f.type !== 'text' || f.text !== 'drop')(texts('keep', 'drop'))))).toEqual(['keep'])
    expect(textOf(await drain(parallel(upper)(texts('p'))))).toEqual(['P'])
    expect(textOf(await drain(pipeline()(texts('id'))))).toEqual(['id'])
  })

  it('a pipeline called with something that is not iterable throws a TypeError', () => {
    expect(() => pipeline(upper)(42 as never)).toThrow(TypeError)
    expect(() => pipeline(upper)('abc' as never)).toThrow(/Iterable or AsyncIterable/)
  })
})

describe('errors outside a task surface', () => {
  it('without a context, an error rejects the iteration with a PipelineError naming the stage', async () => {
    const p = pipeline(failsOn('b'), upper)
    const seen: Frame[] = []
    const error = await (async () => {
      try {
        for await (const f of p(texts('a', 'b', 'c'))) seen.push(f)
      } catch (err) {
        return err
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(PipelineError)
    expect((error as PipelineError).message).toMatch(/cannot take b/)
    expect((error as PipelineError).frame.processor).toMatch(/failsOn/)
    expect(textOf(seen)).toEqual(['A'])
  })

  it('a single operator called without a context rejects too', async () => {
    await expect(drain(failsOn('x')(texts('x')))).rejects.toThrow(/cannot take x/)
  })

  it('in it-pipe, the error reaches the caller of pipe()', async () => {
    await expect(pipe(texts('a', 'b'), pipeline(upper, failsOn('B')), (s) => drain(s))).rejects.toBeInstanceOf(PipelineError)
  })

  it('an error while the source is quiet rejects the pending next() at once', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    async function* quiet(): AsyncGenerator<Frame> {
      yield Frames.text('bad')
      await gate
      yield Frames.text('late')
    }
    const thrower: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        if (f.type === 'text' && f.text === 'bad') ctx.pushUpstream(Frames.error('reported while waiting'))
        else yield f
      }
    }
    await expect(drain(pipeline(thrower)(quiet()))).rejects.toThrow(/reported while waiting/)
    release()
  })

  it('with detachedContext({ onError }), errors go to onError and the run goes on', async () => {
    const errors: ErrorFrame[] = []
    const ctx = detachedContext('bot', { onError: (e) => errors.push(e) })
    const out = await drain(pipeline(failsOn('b'), upper)(texts('a', 'b', 'c'), ctx))
    expect(textOf(out)).toEqual(['A', 'C'])
    expect(errors.map((e) => [e.error, e.processor])).toEqual([['cannot take b', 'bot/failsOn']])
  })

  it('with detachedContext({ onUpstream }), errors reach onUpstream with the other upstream frames', async () => {
    const up: Frame[] = []
    const ctx = detachedContext('bot', { onUpstream: (f) => up.push(f) })
    const out = await drain(pipeline(failsOn('b'))(texts('a', 'b'), ctx))
    expect(textOf(out)).toEqual(['a'])
    expect(up.map((f) => f.type)).toEqual(['error'])
  })
})

describe("Node's stream.pipeline", () => {
  it('runs a processor as a transform (it passes { signal }) and honours that signal', async () => {
    const seen: boolean[] = []
    const waitsForAbort: ProcessorFn = async function* waitsForAbort(source, ctx) {
      for await (const f of source) {
        // A long call in flight: it must end when the signal given to stream.pipeline aborts.
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve()
          else ctx.signal.addEventListener('abort', () => resolve(), { once: true })
        })
        seen.push(ctx.signal.aborted)
        yield f
      }
    }
    const written: Frame[] = []
    const sink = new Writable({ objectMode: true, write: (chunk: Frame, _enc, done) => (written.push(chunk), done()) })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    await expect(
      streamPipeline(Readable.from(texts('a', 'b')), pipeline(waitsForAbort), sink, { signal: controller.signal }),
    ).rejects.toThrow(/abort/i)
    expect(seen).toEqual([true])
    expect(written).toEqual([])
  })

  it('completes normally and passes every frame', async () => {
    const written: Frame[] = []
    const sink = new Writable({ objectMode: true, write: (chunk: Frame, _enc, done) => (written.push(chunk), done()) })
    await streamPipeline(Readable.from(texts('a', 'b')), pipeline(upper, exclaim), sink)
    expect(textOf(written)).toEqual(['A!', 'B!'])
  })
})

describe('sinks that end an it-pipe', () => {
  it('toNodeWritable waits for drain: never more than highWaterMark chunks buffered', async () => {
    let buffered = 0
    let maxBuffered = 0
    const chunks: string[] = []
    const w = new Writable({
      objectMode: true,
      highWaterMark: 2,
      write(chunk: string, _enc, done) {
        buffered = w.writableLength
        maxBuffered = Math.max(maxBuffered, buffered)
        setTimeout(() => {
          chunks.push(chunk)
          done()
        }, 1)
      },
    })
    const words = Array.from({ length: 20 }, (_, i) => `w${i}`)
    await pipe(texts(...words), pipeline(upper), toNodeWritable(w, { encode: (f) => (f.type === 'text' ? f.text : '') }))
    expect(chunks).toEqual(words.map((x) => x.toUpperCase()))
    expect(maxBuffered).toBeLessThanOrEqual(2)
    expect(w.writableFinished).toBe(true)
  })

  it('toNodeWritable drops the chunk waiting for room when startInterruption arrives, and calls onInterruption', async () => {
    const written: string[] = []
    const w = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(chunk: string, _enc, done) {
        written.push(chunk)
        // The first write is slow: the sink waits for drain while the interruption arrives.
        if (written.length === 1) setTimeout(done, 30)
        else done()
      },
    })
    let interruptions = 0
    async function* speech(): AsyncGenerator<Frame> {
      yield Frames.text('one') // written; the stream is now full
      yield Frames.text('stale') // waits for drain
      yield Frames.startInterruption() // arrives while waiting: 'stale' is dropped
      yield Frames.text('fresh')
    }
    await toNodeWritable(w, { encode: (f) => (f.type === 'text' ? f.text : ''), onInterruption: () => interruptions++ })(speech())
    expect(written).toEqual(['one', 'fresh'])
    expect(interruptions).toBe(1)
  })

  it('toNodeWritable destroys the stream and rejects when the source fails', async () => {
    const w = new Writable({ objectMode: true, write: (_c, _e, done) => done() })
    async function* broken(): AsyncGenerator<Frame> {
      yield Frames.text('a')
      throw new Error('source broke')
    }
    await expect(toNodeWritable(w)(broken())).rejects.toThrow(/source broke/)
    expect(w.destroyed).toBe(true)
  })

  it('toWritable writes to a WHATWG WritableStream with backpressure and closes it', async () => {
    const chunks: string[] = []
    let closed = false
    const stream = new WritableStream<string>(
      {
        write: (chunk) => new Promise<void>((resolve) => setTimeout(() => (chunks.push(chunk), resolve()), 1)),
        close: () => void (closed = true),
      },
      new CountQueuingStrategy({ highWaterMark: 1 }),
    )
    await pipe(itMap(['a', 'b', 'c'], (w) => Frames.text(w)), pipeline(upper), toWritable(stream, { encode: (f) => (f.type === 'text' ? f.text : '') }))
    expect(chunks).toEqual(['A', 'B', 'C'])
    expect(closed).toBe(true)
  })

  it('toWritable aborts the stream and rejects when the source fails', async () => {
    let aborted: unknown
    const stream = new WritableStream<Frame>({ abort: (reason) => void (aborted = reason) })
    async function* broken(): AsyncGenerator<Frame> {
      yield Frames.text('a')
      throw new Error('source broke')
    }
    await expect(toWritable(stream)(broken())).rejects.toThrow(/source broke/)
    expect(String(aborted)).toMatch(/source broke/)
  })

  it('bad arguments are TypeErrors', () => {
    expect(() => toWritable({} as never)).toThrow(TypeError)
    expect(() => toNodeWritable({} as never)).toThrow(TypeError)
    expect(() => toWritable(new WritableStream(), { encode: 1 as never })).toThrow(/encode must be a function/)
  })
})
