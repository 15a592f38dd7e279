import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import { pushable } from 'it-pushable'
import { describe, expect, it } from 'vitest'
import { fromCallback } from '../../lib/adapters/from-callback.js'
import { fromEventEmitter } from '../../lib/adapters/from-event-emitter.js'
import { fromNodeReadable } from '../../lib/adapters/from-node-readable.js'
import { fromPushable } from '../../lib/adapters/from-pushable.js'
import { fromReadableStream } from '../../lib/adapters/from-readable-stream.js'
import { BufferOverflowError } from '../../lib/adapters/overflow.js'
import { map } from '../../lib/operators/map.js'
import { run } from '../../lib/core/run.js'
import { PipelineError } from '../../lib/errors.js'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { collect, texts } from '../processors/run-helpers.js'

const identity = map((f: Frame) => f)
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

describe('fromPushable', () => {
  it('feeds run() in order and ends with the pushable', async () => {
    const p = pushable<Frame>({ objectMode: true })
    p.push(Frames.text('a'))
    p.push(Frames.text('b'))
    p.end()
    const { out } = await collect(identity, fromPushable(p))
    expect(texts(out)).toEqual(['a', 'b'])
  })

  it('return() while a read is pending ends the pushable and settles the read', async () => {
    const p = pushable<Frame>({ objectMode: true })
    const it = fromPushable(p)[Symbol.asyncIterator]()
    const pending = it.next()
    await it.return?.()
    await expect(pending).resolves.toEqual({ done: true, value: undefined })
    p.push(Frames.text('late'))
    expect(p.readableLength).toBe(0)
  })

  it('a value that is not a frame fails the input with a TypeError', async () => {
    const p = pushable<unknown>({ objectMode: true })
    p.push({ nope: true })
    p.end()
    await expect(collect(identity, fromPushable(p))).rejects.toThrow(PipelineError)
  })

  it('rejects a non-pushable', () => expect(() => fromPushable({} as never)).toThrow(TypeError))
})

describe('fromCallback', () => {
  it('delivers pushed frames and ends on end(); cleanup runs once', async () => {
    let cleanups = 0
    const input = fromCallback((sink) => {
      sink.push(Frames.text('a'))
      setTimeout(() => {
        sink.push(Frames.text('b'))
        sink.end()
      }, 1)
      return () => void cleanups++
    })
    const { out } = await collect(identity, input)
    expect(texts(out)).toEqual(['a', 'b'])
    expect(cleanups).toBe(1)
  })

  it("overflow 'error' (default): the input fails with BufferOverflowError", async () => {
    const input = fromCallback((sink) => {
      for (let i = 0; i < 5; i++) sink.push(Frames.text(String(i)))
    }, { capacity: 2 })
    const it = input[Symbol.asyncIterator]()
    await expect(it.next()).rejects.toBeInstanceOf(BufferOverflowError)
  })

  it("overflow 'dropOldest' / 'dropNewest' keep the newest / oldest and report drops through onDrop", async () => {
    const take = async (overflow: 'dropOldest' | 'dropNewest') => {
      const dropped: string[] = []
      const input = fromCallback(
        (sink) => {
          for (const t of ['1', '2', '3', '4']) sink.push(Frames.text(t))
          sink.end()
        },
        { capacity: 2, overflow, onDrop: (f) => dropped.push(f.kind === 'data' && f.type === 'text' ? f.text : '?') },
      )
      const got: string[] = []
      for await (const f of input) got.push(f.kind === 'data' && f.type === 'text' ? f.text : '?')
      return { got, dropped }
    }
    expect(await take('dropOldest')).toEqual({ got: ['3', '4'], dropped: ['1', '2'] })
    expect(await take('dropNewest')).toEqual({ got: ['1', '2'], dropped: ['3', '4'] })
  })

  it("overflow 'wait': push returns a promise while full, settled once the consumer takes a frame", async () => {
    let sinkRef!: import('../../lib/adapters/from-callback.js').FrameSink
    const it = fromCallback((s) => void (sinkRef = s), { capacity: 1, overflow: 'wait' })[Symbol.asyncIterator]()
    const first = it.next()
    expect(sinkRef.push(Frames.text('a'))).toBeUndefined()
    await first
    expect(sinkRef.push(Frames.text('b'))).toBeUndefined()
    const blocked = sinkRef.push(Frames.text('c'))
    expect(blocked).toBeInstanceOf(Promise)
    let settled = false
    void blocked?.then(() => (settled = true))
    await tick()
    expect(settled).toBe(false)
    await it.next()
    await tick()
    expect(settled).toBe(true)
    await it.return?.()
  })

  it('early teardown aborts sink.signal, runs cleanup and ignores later pushes', async () => {
    let sinkRef!: import('../../lib/adapters/from-callback.js').FrameSink
    let cleaned = false
    const it = fromCallback((s) => {
      sinkRef = s
      return () => void (cleaned = true)
    })[Symbol.asyncIterator]()
    const pending = it.next()
    await it.return?.()
    await expect(pending).resolves.toMatchObject({ done: true })
    expect(sinkRef.signal.aborted).toBe(true)
    expect(cleaned).toBe(true)
    expect(sinkRef.push(Frames.text('late'))).toBeUndefined()
  })

  it('fail(err) fails the input; setup that throws fails it too; push(non-frame) throws a TypeError', async () => {
    await expect(collect(identity, fromCallback((s) => s.fail(new Error('producer broke'))))).rejects.toThrow(/producer broke/)
    await expect(
      collect(
        identity,
        fromCallback(() => {
          throw new Error('no socket')
        }),
      ),
    ).rejects.toThrow(/no socket/)
    const it = fromCallback((s) => {
      expect(() => s.push({} as never)).toThrow(TypeError)
      s.end()
    })[Symbol.asyncIterator]()
    await expect(it.next()).resolves.toMatchObject({ done: true })
  })

  it('cancelling the run tears the subscription down', async () => {
    let cleaned = false
    const controller = new AbortController()
    const input = fromCallback((sink) => {
      sink.push(Frames.text('a'))
      return () => void (cleaned = true)
    })
    const handle = run(identity, input, { signal: controller.signal })
    for await (const f of handle) if (f.kind === 'data' && f.type === 'text') controller.abort()
    expect((await handle.result).status).toBe('cancelled')
    await tick()
    expect(cleaned).toBe(true)
  })

  it('rejects bad options', () => {
    expect(() => fromCallback('x' as never)).toThrow(TypeError)
    expect(() => fromCallback(() => {}, { capacity: 0 })).toThrow(TypeError)
    expect(() => fromCallback(() => {}, { overflow: 'grow' as never })).toThrow(TypeError)
  })
})

describe('fromEventEmitter', () => {
  it('frames from events, end event ends, listeners removed', async () => {
    const e = new EventEmitter()
    const input = fromEventEmitter(e)
    const done = collect(identity, input)
    await tick()
    e.emit('frame', Frames.text('a'))
    e.emit('frame', Frames.text('b'))
    e.emit('end')
    const { out } = await done
    expect(texts(out)).toEqual(['a', 'b'])
    expect(e.listenerCount('frame') + e.listenerCount('end') + e.listenerCount('error')).toBe(0)
  })

  it('map turns event arguments into frames (undefined skips); error event fails the run', async () => {
    const e = new EventEmitter()
    const input = fromEventEmitter(e, { event: 'data', map: (s: string) => (s === '' ? undefined : Frames.text(s)) })
    const done = collect(identity, input)
    await tick()
    e.emit('data', 'x')
    e.emit('data', '')
    e.emit('error', new Error('mic failed'))
    await expect(done).rejects.toThrow(/mic failed/)
    expect(e.listenerCount('data')).toBe(0)
  })

  it('an event that is not a frame fails the input with a TypeError', async () => {
    const e = new EventEmitter()
    const it = fromEventEmitter(e)[Symbol.asyncIterator]()
    const next = it.next()
    e.emit('frame', 'not a frame')
    await expect(next).rejects.toThrow(TypeError)
  })

  it("refuses overflow 'wait' and emitters without off()", () => {
    expect(() => fromEventEmitter(new EventEmitter(), { overflow: 'wait' as never })).toThrow(/cannot wait/)
    expect(() => fromEventEmitter({ on() {} } as never)).toThrow(TypeError)
  })
})

describe('fromReadableStream', () => {
  it('reads frames in order and releases the lock at the end', async () => {
    const stream = new ReadableStream<Frame>({
      start(c) {
        c.enqueue(Frames.text('a'))
        c.enqueue(Frames.text('b'))
        c.close()
      },
    })
    const { out } = await collect(identity, fromReadableStream(stream))
    expect(texts(out)).toEqual(['a', 'b'])
    expect(stream.locked).toBe(false)
  })

  it('decode turns chunks into frames (one, several or none)', async () => {
    const stream = new ReadableStream<string>({
      start(c) {
        for (const s of ['a b', '', 'c']) c.enqueue(s)
        c.close()
      },
    })
    const input = fromReadableStream(stream, { decode: (s: string) => (s === '' ? undefined : s.split(' ').map((w) => Frames.text(w))) })
    const { out } = await collect(identity, input)
    expect(texts(out)).toEqual(['a', 'b', 'c'])
  })

  it('pulls lazily (backpressure): the stream is asked only for what is read', async () => {
    let pulls = 0
    const stream = new ReadableStream<Frame>(
      {
        pull(c) {
          pulls++
          c.enqueue(Frames.text(String(pulls)))
        },
      },
      { highWaterMark: 0 },
    )
    const it = fromReadableStream(stream)[Symbol.asyncIterator]()
    await it.next()
    await it.next()
    await tick()
    expect(pulls).toBeLessThanOrEqual(3)
    await it.return?.()
  })

  it('return() with a read pending cancels the stream', async () => {
    let cancelled: unknown = 'no'
    const stream = new ReadableStream<Frame>({
      cancel(reason) {
        cancelled = reason
      },
    })
    const it = fromReadableStream(stream)[Symbol.asyncIterator]()
    const pending = it.next()
    await it.return?.()
    await expect(pending).resolves.toMatchObject({ done: true })
    expect(cancelled).toBeUndefined()
    expect(stream.locked).toBe(false)
  })

  it('a chunk that is not a frame fails the input and cancels the stream', async () => {
    let cancelled = false
    const stream = new ReadableStream<unknown>({
      start(c) {
        c.enqueue(42)
      },
      cancel() {
        cancelled = true
      },
    })
    await expect(collect(identity, fromReadableStream(stream))).rejects.toThrow(/not a frame/)
    expect(cancelled).toBe(true)
  })

  it('rejects a non-stream', () => expect(() => fromReadableStream({} as never)).toThrow(TypeError))
})

describe('fromNodeReadable', () => {
  it('objectMode stream of frames', async () => {
    const { out } = await collect(identity, fromNodeReadable(Readable.from([Frames.text('a'), Frames.text('b')])))
    expect(texts(out)).toEqual(['a', 'b'])
  })

  it('byte stream with decode', async () => {
    const bytes = Readable.from([Buffer.from([1, 2, 3, 4]), Buffer.from([5, 6])], { objectMode: false })
    const { out } = await collect(identity, fromNodeReadable(bytes, { decode: (b: Buffer) => Frames.audioRaw({ audio: b }) }))
    expect(out.filter((f) => f.type === 'audioRaw').map((f) => (f.kind === 'data' && f.type === 'audioRaw' ? f.numFrames : 0))).toEqual([2, 1])
  })

  it('early teardown destroys the stream even with a read pending', async () => {
    const r = new Readable({ objectMode: true, read() {} })
    const it = fromNodeReadable(r)[Symbol.asyncIterator]()
    const pending = it.next()
    await it.return?.()
    await expect(pending).resolves.toMatchObject({ done: true })
    expect(r.destroyed).toBe(true)
  })

  it('a stream error fails the run', async () => {
    const r = new Readable({
      objectMode: true,
      read() {
        this.destroy(new Error('disk gone'))
      },
    })
    await expect(collect(identity, fromNodeReadable(r))).rejects.toThrow(/disk gone/)
  })

  it('backpressure: a paused pipeline stops the stream from reading far ahead', async () => {
    let reads = 0
    const r = new Readable({
      objectMode: true,
      highWaterMark: 2,
      read() {
        reads++
        this.push(Frames.text(String(reads)))
      },
    })
    const it = fromNodeReadable(r)[Symbol.asyncIterator]()
    await it.next()
    await tick()
    await tick()
    expect(reads).toBeLessThanOrEqual(4)
    await it.return?.()
  })

  it('rejects a non-stream', () => expect(() => fromNodeReadable({} as never)).toThrow(TypeError))
})
