import { describe, expect, it, vi } from 'vitest'
import { detachedContext } from '../../lib/core/context.js'
import { Frames, PipelineTask, pipeline, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { buffer, buffered, type DropReason } from '../../lib/processors/buffered.js'
import { collect, deferred, texts, textFrames, tick, types } from '../helpers/collect.js'

const identity: Processor = async function* identity(source) {
  yield* source
}

/** A consumer stage that holds every frame until `open` resolves, then passes everything. */
function gate(open: Promise<void>): Processor {
  return async function* gated(source) {
    for await (const f of source) {
      await open
      yield f
    }
  }
}

/** A processor that yields `frames` (ignoring its input until they are out), then passes its input on. */
function producer(frames: readonly Frame[], pulled?: { n: number }, done?: () => void): ProcessorFn {
  return async function* produce(source) {
    const it = source[Symbol.asyncIterator]()
    const first = await it.next() // start
    if (first.done !== true) yield first.value
    for (const f of frames) {
      yield f
      if (pulled !== undefined) pulled.n++
    }
    done?.()
    for (;;) {
      const r = await it.next()
      if (r.done === true) return
      yield r.value
    }
  }
}

/** A sync iterable seen as the async iterable a processor expects (the buffer accepts both). */
const fromArray = (frames: Frame[]): AsyncIterable<Frame> => frames as unknown as AsyncIterable<Frame>

async function runTask(task: PipelineTask, feed: () => Promise<void> | void): Promise<Frame[]> {
  const out: Frame[] = []
  const output = task.frames()
  const reading = (async () => {
    for await (const f of output) out.push(f)
  })()
  const running = task.run()
  await feed()
  await running
  await reading
  return out
}

describe('buffer / buffered', () => {
  it('keeps data and control frames in FIFO order through a small queue and drains it at end', async () => {
    const input: Frame[] = []
    for (let i = 0; i < 200; i++) input.push(i % 7 === 3 ? Frames.sync() : Frames.text(String(i)))
    const slow: Processor = async function* slow(source) {
      for await (const f of source) {
        if (f.kind === 'data') await tick()
        yield f
      }
    }
    const { out, result } = await collect(pipeline(buffered(identity, { capacity: 2 }), slow), input)
    expect(result.status).toBe('ended')
    expect(out[0]?.type).toBe('start')
    expect(out.at(-1)?.type).toBe('end')
    expect(out.filter((f) => f.kind !== 'system').slice(1, -1)).toEqual(input)
  })

  it('lets a system frame jump ahead of queued frames', async () => {
    const open = deferred()
    const produced = deferred()
    const metrics = Frames.metrics({ ttfb: [{ processor: 'x', value: 1 }] })
    const frames = [...textFrames(4), metrics]
    const p = pipeline(producer(frames, undefined, produced.resolve), buffer({ capacity: 8 }), gate(open.promise))
    const task = new PipelineTask(p)
    const out = await runTask(task, async () => {
      await produced.promise
      await tick()
      open.resolve()
      task.stopWhenDone()
    })
    expect(types(out)).toEqual(['start', 'metrics', 'text', 'text', 'text', 'text', 'end'])
  })

  it('lets a system frame jump ahead even while the queue is full and the producer waits', async () => {
    const open = deferred()
    const pulled = { n: 0 }
    const metrics = Frames.metrics()
    const frames = [...textFrames(3), metrics, Frames.text('after')]
    const p = pipeline(producer(frames, pulled), buffer({ capacity: 2 }), gate(open.promise))
    const task = new PipelineTask(p)
    const out = await runTask(task, async () => {
      for (let i = 0; i < 20; i++) await tick()
      // Bounded: the queue (2), the frame waiting to enter it, the system frame read ahead, one more read ahead.
      expect(pulled.n).toBeLessThanOrEqual(5)
      open.resolve()
      task.stopWhenDone()
    })
    const order = types(out)
    expect(order.indexOf('metrics')).toBeLessThan(order.indexOf('text'))
    expect(texts(out)).toEqual(['0', '1', '2', 'after'])
    expect(order.at(-1)).toBe('end')
  })

  it('applies backpressure: a consumer that does not read stops the producer at capacity', async () => {
    const pulled = { n: 0 }
    const open = deferred()
    const p = pipeline(producer(textFrames(100), pulled), buffer({ capacity: 5 }), gate(open.promise))
    const task = new PipelineTask(p)
    const out = await runTask(task, async () => {
      for (let i = 0; i < 30; i++) await tick()
      expect(pulled.n).toBeGreaterThanOrEqual(5)
      expect(pulled.n).toBeLessThanOrEqual(7)
      open.resolve()
      task.stopWhenDone()
    })
    expect(texts(out)).toHaveLength(100)
  })

  it('drops queued data and app frames on an interruption, keeps control frames, sends startInterruption ahead', async () => {
    const open = deferred()
    const produced = deferred()
    const dropped: Frame[] = []
    const reasons: DropReason[] = []
    const frames = [Frames.text('a'), Frames.app('note', 1), Frames.sync(), Frames.text('b'), Frames.syncNotify(), Frames.text('c')]
    const p = pipeline(
      producer(frames, undefined, produced.resolve),
      buffer({
        capacity: 16,
        onDrop: (fs, reason) => {
          dropped.push(...fs)
          reasons.push(reason)
        },
      }),
      gate(open.promise),
    )
    const task = new PipelineTask(p, { allowInterruptions: true })
    const out = await runTask(task, async () => {
      await produced.promise
      await tick()
      expect(task.interrupt()).toBe(true)
      await tick()
      open.resolve()
      await task.queueFrame(Frames.text('new'))
      task.stopWhenDone()
    })
    expect(types(out)).toEqual(['start', 'startInterruption', 'sync', 'syncNotify', 'text', 'end'])
    expect(texts(out)).toEqual(['new'])
    expect(dropped.map((f) => f.id).sort()).toEqual([frames[0], frames[1], frames[3], frames[5]].map((f) => f?.id).sort())
    expect(new Set(reasons)).toEqual(new Set(['interruption']))
  })

  it('dropOnInterruption narrows what an interruption drops (never control frames)', async () => {
    const open = deferred()
    const produced = deferred()
    const keep = Frames.text('keep')
    const frames = [Frames.text('drop'), keep, Frames.sync()]
    const p = pipeline(
      producer(frames, undefined, produced.resolve),
      buffer({ dropOnInterruption: (f) => f !== keep }),
      gate(open.promise),
    )
    const task = new PipelineTask(p, { allowInterruptions: true })
    const out = await runTask(task, async () => {
      await produced.promise
      await tick()
      task.interrupt()
      open.resolve()
      task.stopWhenDone()
    })
    expect(texts(out)).toEqual(['keep'])
    expect(types(out)).toContain('sync')
  })

  it('drops nothing on a startInterruption frame when interruptions are not allowed', async () => {
    const open = deferred()
    const produced = deferred()
    const p = pipeline(producer(textFrames(3), undefined, produced.resolve), buffer(), gate(open.promise))
    const task = new PipelineTask(p)
    const out = await runTask(task, async () => {
      await produced.promise
      expect(task.interrupt()).toBe(false)
      await task.queueFrame(Frames.startInterruption())
      await tick()
      open.resolve()
      task.stopWhenDone()
    })
    expect(texts(out)).toEqual(['0', '1', '2'])
    expect(types(out)).toContain('startInterruption')
  })

  it('never drops end on an interruption: queued data before end is dropped, end still comes last', async () => {
    const open = deferred()
    const task = new PipelineTask(pipeline(identity, buffer({ capacity: 64 }), gate(open.promise)), { allowInterruptions: true })
    const out = await runTask(task, async () => {
      await task.queueFrames([...textFrames(10), Frames.end()])
      for (let i = 0; i < 10; i++) await tick()
      task.interrupt()
      open.resolve()
    })
    expect(types(out)).toEqual(['start', 'startInterruption', 'end'])
  })

  it('drops queued frames when the run is cancelled and reports them', async () => {
    const open = deferred()
    const dropped: Array<[number, DropReason]> = []
    const p = pipeline(identity, buffer({ onDrop: (fs, r) => dropped.push([fs.length, r]) }), gate(open.promise))
    const task = new PipelineTask(p, { cancelTimeoutMs: 50 })
    const output = task.frames()
    const reading = (async () => {
      for await (const f of output) void f
    })()
    const running = task.run()
    await task.queueFrames(textFrames(10))
    for (let i = 0; i < 10; i++) await tick()
    void task.cancel()
    open.resolve()
    const result = await running
    await reading
    expect(result.status).toBe('cancelled')
    expect(dropped.reduce((n, [k]) => n + k, 0)).toBe(10)
    expect(dropped.every(([, r]) => r === 'cancel')).toBe(true)
  })

  it('passes queued frames before reporting an error of its source', async () => {
    const boom = new Error('source broke')
    async function* source(): AsyncGenerator<Frame> {
      yield Frames.text('a')
      yield Frames.text('b')
      throw boom
    }
    const it = buffer()(source(), detachedContext('t'))[Symbol.asyncIterator]()
    expect((await it.next()).value).toMatchObject({ text: 'a' })
    expect((await it.next()).value).toMatchObject({ text: 'b' })
    await expect(it.next()).rejects.toBe(boom)
  })

  it('works without a context and closes its source and listeners on early exit', async () => {
    let closed = false
    async function* source(): AsyncGenerator<Frame> {
      try {
        for (let i = 0; ; i++) yield Frames.text(String(i))
      } finally {
        closed = true
      }
    }
    const got: string[] = []
    for await (const f of buffer({ capacity: 3 })(source(), undefined as never)) {
      if (f.kind === 'data' && f.type === 'text') got.push(f.text)
      if (got.length === 5) break
    }
    expect(got).toEqual(['0', '1', '2', '3', '4'])
    for (let i = 0; i < 5; i++) await tick()
    expect(closed).toBe(true)
  })

  it('removes its interruption listener on teardown and at the end of its input', async () => {
    for (const mode of ['break', 'drain'] as const) {
      const ctx = detachedContext('t')
      const removed = vi.fn()
      const original = ctx.runtime.onInterrupt.bind(ctx.runtime)
      vi.spyOn(ctx.runtime, 'onInterrupt').mockImplementation((listener) => {
        const off = original(listener)
        return () => {
          removed()
          return off()
        }
      })
      const it = buffer()(fromArray(textFrames(3)), ctx)[Symbol.asyncIterator]()
      await it.next()
      expect(ctx.runtime.onInterrupt).toHaveBeenCalledTimes(1)
      if (mode === 'break') await it.return?.()
      else while ((await it.next()).done !== true);
      expect(removed).toHaveBeenCalledTimes(1)
    }
  })

  it('drops queued data at once when the runtime is interrupted; puts startInterruption ahead once its input has ended', async () => {
    const ctx = detachedContext('t')
    const it = buffer({ capacity: 10 })(fromArray([Frames.text('a'), Frames.sync(), Frames.text('b')]), ctx)[Symbol.asyncIterator]()
    const first = await it.next()
    expect(first.value).toMatchObject({ text: 'a' })
    await tick()
    ctx.runtime.interrupt()
    expect((await it.next()).value?.type).toBe('startInterruption')
    expect((await it.next()).value?.type).toBe('sync')
    expect((await it.next()).done).toBe(true)
  })

  it('rejects bad options with a TypeError', () => {
    expect(() => buffer({ capacity: 0 })).toThrow(TypeError)
    expect(() => buffer({ capacity: 1.5 })).toThrow(TypeError)
    expect(() => buffer(null as never)).toThrow(TypeError)
    expect(() => buffer({ onDrop: 3 as never })).toThrow(TypeError)
    expect(() => buffer({ dropOnInterruption: 'x' as never })).toThrow(TypeError)
    expect(() => buffered(42 as never)).toThrow(TypeError)
  })
})
