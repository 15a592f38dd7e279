import { describe, expect, it } from 'vitest'
import { toArray } from '../../lib/adapters/to-array.js'
import { toCallback } from '../../lib/adapters/to-callback.js'
import { toWritableStream } from '../../lib/adapters/to-writable-stream.js'
import { pipeline } from '../../lib/core/pipeline.js'
import { processorInfo } from '../../lib/core/processor.js'
import { run } from '../../lib/core/run.js'
import { FatalError, PipelineError } from '../../lib/errors.js'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { collect, pushUpOnStart, sampleFrames, texts, types } from '../processors/run-helpers.js'

const mixed = (): Frame[] => [Frames.metrics(), Frames.syncNotify(), Frames.text('a'), Frames.app('note', 1), Frames.text('b')]

describe('toCallback', () => {
  it('delivers data frames, consumes them, forwards the rest in order (seed OutputFrameProcessor)', async () => {
    const got: string[] = []
    const { out } = await collect(toCallback((f) => void got.push(f.type)), mixed())
    expect(got).toEqual(['text', 'text'])
    expect(types(out)).toEqual(['start', 'metrics', 'syncNotify', 'note', 'end'])
  })

  it('per-frame acknowledgement: the next frame waits for the returned promise', async () => {
    const log: string[] = []
    let ack!: () => void
    const cb = toCallback((f) => {
      log.push(`deliver ${f.kind === 'data' && f.type === 'text' ? f.text : f.type}`)
      return new Promise<void>((r) => (ack = r))
    })
    const handle = run(cb, [Frames.text('1'), Frames.text('2')])
    const reading = (async () => {
      for await (const f of handle) log.push(`out ${f.type}`)
    })()
    await new Promise((r) => setTimeout(r, 20))
    expect(log.filter((l) => l.startsWith('deliver'))).toEqual(['deliver 1'])
    ack()
    await new Promise((r) => setTimeout(r, 20))
    expect(log.filter((l) => l.startsWith('deliver'))).toEqual(['deliver 1', 'deliver 2'])
    expect(log).not.toContain('out end')
    ack()
    await reading
    expect(log.at(-1)).toBe('out end')
  })

  it('forward: true forwards delivered frames after acknowledgement; select picks other kinds', async () => {
    const got: string[] = []
    const { out } = await collect(toCallback((f) => void got.push(f.type), { forward: true, select: (f) => f.kind === 'app' || f.kind === 'system' }), mixed())
    expect(got).toEqual(['metrics', 'note'])
    expect(types(out)).toEqual(['start', 'metrics', 'syncNotify', 'text', 'note', 'text', 'end'])
  })

  it('up: upstream frames pass and are not delivered', async () => {
    const got: Frame[] = []
    const s = sampleFrames()
    const { ups } = await collect(pipeline(toCallback((f) => void got.push(f)), pushUpOnStart(() => [s.system, s.control, s.data, s.app])), [])
    expect(got).toEqual([])
    expect(ups.map((f) => f.id)).toEqual([s.system.id, s.control.id, s.data.id, s.app.id])
  })

  it('a callback that throws or rejects is reported; the run goes on; a FatalError ends it', async () => {
    const { ups, result } = await collect(
      toCallback(async (f) => {
        if (f.kind === 'data' && f.type === 'text' && f.text === 'a') throw new Error('speaker busy')
      }),
      [Frames.text('a'), Frames.text('b')],
    )
    expect(result.status).toBe('ended')
    expect(ups.some((f) => f.kind === 'system' && f.type === 'error' && f.error === 'speaker busy')).toBe(true)
    await expect(
      collect(
        toCallback(() => {
          throw new FatalError('device lost')
        }),
        [Frames.text('a')],
      ),
    ).rejects.toBeInstanceOf(PipelineError)
  })

  it('passes the stage signal, which aborts when the run is cancelled', async () => {
    let seen: AbortSignal | undefined
    const controller = new AbortController()
    const handle = run(
      toCallback((_f, { signal }) => {
        seen = signal
        controller.abort()
        return new Promise((_, reject) => {
          if (signal.aborted) reject(signal.reason)
          else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        })
      }),
      [Frames.text('a')],
      { signal: controller.signal },
    )
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('cancelled')
    expect(seen?.aborted).toBe(true)
  })

  it('rejects bad arguments', () => {
    expect(() => toCallback(1 as never)).toThrow(TypeError)
    expect(() => toCallback(() => {}, { forward: 'yes' as never })).toThrow(TypeError)
  })
})

describe('toArray', () => {
  it('appends data frames and consumes them; other kinds pass', async () => {
    const arr: Frame[] = []
    const { out } = await collect(toArray(arr), mixed())
    expect(texts(arr)).toEqual(['a', 'b'])
    expect(types(out)).toEqual(['start', 'metrics', 'syncNotify', 'note', 'end'])
  })

  it('select everything + forward records all frames and changes nothing', async () => {
    const arr: Frame[] = []
    const { out } = await collect(toArray(arr, { select: () => true, forward: true }), mixed())
    expect(arr.map((f) => f.id)).toEqual(out.map((f) => f.id))
  })

  it('up: upstream frames are not appended', async () => {
    const arr: Frame[] = []
    const s = sampleFrames()
    const { ups } = await collect(pipeline(toArray(arr, { select: () => true, forward: true }), pushUpOnStart(() => [s.system, s.control, s.data, s.app])), [])
    expect(types(arr)).toEqual(['start', 'end'])
    expect(ups).toHaveLength(4)
  })

  it('is a fusable step; rejects a non-array', () => {
    expect(processorInfo(toArray([]))?.step).toBeTypeOf('function')
    expect(() => toArray({} as never)).toThrow(TypeError)
  })
})

describe('toWritableStream', () => {
  const sinkStream = (opts: { delay?: number; hwm?: number; fail?: string } = {}) => {
    const written: unknown[] = []
    let closed = false
    let aborted: unknown = 'no'
    const stream = new WritableStream<unknown>(
      {
        async write(chunk) {
          if (opts.fail !== undefined && chunk === opts.fail) throw new Error('write failed')
          if (opts.delay !== undefined) await new Promise((r) => setTimeout(r, opts.delay))
          written.push(chunk)
        },
        close() {
          closed = true
        },
        abort(reason) {
          aborted = reason
        },
      },
      { highWaterMark: opts.hwm ?? 1 },
    )
    return { stream, written, isClosed: () => closed, aborted: () => aborted }
  }

  it('writes encoded data frames, closes the stream at end (all written) before end passes', async () => {
    const s = sinkStream({ delay: 2 })
    let writtenAtEnd = -1
    const { out } = await collect(
      pipeline(toWritableStream(s.stream, { encode: (f) => (f.kind === 'data' && f.type === 'text' ? f.text : '?') }), async function* (source) {
        for await (const f of source) {
          if (f.type === 'end') writtenAtEnd = s.written.length
          yield f
        }
      }),
      mixed(),
    )
    expect(s.written).toEqual(['a', 'b'])
    expect(writtenAtEnd).toBe(2)
    expect(s.isClosed()).toBe(true)
    expect(types(out)).toEqual(['start', 'metrics', 'syncNotify', 'note', 'end'])
    expect(s.stream.locked).toBe(false)
  })

  it('backpressure: waits for writer.ready, so at most highWaterMark chunks are queued', async () => {
    let maxQueued = 0
    let inFlight = 0
    const stream = new WritableStream<unknown>(
      {
        async write() {
          inFlight++
          maxQueued = Math.max(maxQueued, inFlight)
          await new Promise((r) => setTimeout(r, 1))
          inFlight--
        },
      },
      new CountQueuingStrategy({ highWaterMark: 2 }),
    )
    const probe = async function* (source: AsyncIterable<Frame>) {
      for await (const f of source) yield f
    }
    const spy = toWritableStream(stream)
    await collect(pipeline(probe, spy), Array.from({ length: 20 }, (_, i) => Frames.text(String(i))))
    expect(maxQueued).toBe(1)
  })

  it('forward: true forwards written frames', async () => {
    const s = sinkStream()
    const { out } = await collect(toWritableStream(s.stream, { forward: true }), [Frames.text('a')])
    expect(texts(out)).toEqual(['a'])
    expect(s.written).toHaveLength(1)
  })

  it('up: upstream frames pass, nothing written', async () => {
    const s = sinkStream()
    const f = sampleFrames()
    const { ups } = await collect(pipeline(toWritableStream(s.stream, { select: () => true, forward: true }), pushUpOnStart(() => [f.system, f.control, f.data, f.app])), [])
    expect(ups).toHaveLength(4)
    expect(s.written.map((x) => (x as Frame).type)).toEqual(['start'])
  })

  it('a failing stream ends the task errored (the output is gone)', async () => {
    const s = sinkStream({ fail: 'a' })
    await expect(collect(toWritableStream(s.stream, { encode: (f) => (f.kind === 'data' && f.type === 'text' ? f.text : '') }), [Frames.text('a'), Frames.text('b')])).rejects.toThrow(/stream failed/)
    expect(s.stream.locked).toBe(false)
  })

  it('cancel aborts the stream and releases the lock', async () => {
    const s = sinkStream()
    const controller = new AbortController()
    const handle = run(toWritableStream(s.stream), (async function* () {
      yield Frames.text('a')
      await new Promise((r) => setTimeout(r, 10))
      controller.abort()
      await new Promise((r) => setTimeout(r, 10))
    })(), { signal: controller.signal })
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('cancelled')
    await new Promise((r) => setTimeout(r, 10))
    expect(s.aborted()).not.toBe('no')
    expect(s.stream.locked).toBe(false)
  })

  it('close: false leaves the stream open at end', async () => {
    const s = sinkStream()
    await collect(toWritableStream(s.stream, { close: false }), [Frames.text('a')])
    expect(s.isClosed()).toBe(false)
    expect(s.stream.locked).toBe(false)
  })

  it('rejects bad arguments', () => {
    expect(() => toWritableStream({} as never)).toThrow(TypeError)
    expect(() => toWritableStream(new WritableStream(), { encode: 1 as never })).toThrow(TypeError)
  })
})
