/**
 * Teardown at every edge (rule 4): cancel, stop, abort and `break` close every stage with `return()` and never pull
 * one again; a stage next to one that ignores the signal is still finalized; `run()` never leaks a task; a value that
 * is not a frame never travels on; many stages add no listener per stage to a signal.
 */
import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineError,
  PipelineTask,
  buffer,
  pipeline,
  run,
  syncParallel,
  type Frame,
  type Processor,
  type ProcessorFn,
} from '../../lib/index.js'
import { deferred, sleep, textFrames, texts, tick, types } from '../helpers/collect.js'

/** A pass-through stage that records its `finally`; with `park`, it waits forever (ignoring the signal) on a text. */
const stage =
  (name: string, log: string[], park = false): Processor =>
    async function* (source) {
      try {
        for await (const f of source) {
          if (park && f.type === 'text') await new Promise(() => {})
          yield f
        }
      } finally {
        log.push(name)
      }
    }

describe('cancel, stop and break close the stages, never pull them', () => {
  it('break out of run() over an endless producer: its finally runs at once and it is resumed no more', async () => {
    let produced = 0
    let closed = false
    const producer: Processor = async function* producer(source) {
      try {
        for await (const f of source) {
          yield f
          if (f.type === 'start') for (let i = 0; i < 1e7; i++) {
            yield Frames.app('v', { i })
            produced++
          }
        }
      } finally {
        closed = true
      }
    }
    const handle = run(pipeline(producer, stage('a', []), stage('b', [])), [], { cancelTimeoutMs: 30_000 })
    let n = 0
    const t0 = performance.now()
    for await (const f of handle) if (f.type === 'v' && ++n === 3) break
    const afterBreak = produced
    const result = await handle.result
    expect(result.status).toBe('cancelled')
    expect(closed).toBe(true)
    // Frames in flight when the consumer broke (queues of 64) are all it may have produced; nothing after the break.
    expect(afterBreak).toBeLessThan(1000)
    await tick()
    expect(produced).toBe(afterBreak)
    // The break does not wait for the cancel timeout (30 s here).
    expect(performance.now() - t0).toBeLessThan(10_000)
  })

  it('cancel() of a task whose stages are at a yield pulls nothing more and finalizes every stage', async () => {
    let resumed = 0
    const log: string[] = []
    const chatty: Processor = async function* chatty(source) {
      try {
        for await (const f of source) {
          yield f
          if (f.type === 'text') for (;;) {
            yield Frames.text('again')
            resumed++
          }
        }
      } finally {
        log.push('chatty')
      }
    }
    const task = new PipelineTask(pipeline(chatty, stage('after', log)), { outputCapacity: 2, cancelTimeoutMs: 30_000 })
    const output = task.frames()
    const done = task.run()
    await task.queueFrame(Frames.text('go'))
    const it = output[Symbol.asyncIterator]()
    for (let i = 0; i < 4; i++) await it.next()
    const before = resumed
    const result = await task.cancel()
    expect(result.status).toBe('cancelled')
    expect(await done).toBe(result)
    expect(log.sort()).toEqual(['after', 'chatty'])
    await tick()
    expect(resumed - before).toBeLessThanOrEqual(1)
  })

  it('stop() closes the stages the same way, status stopped', async () => {
    const log: string[] = []
    const task = new PipelineTask(pipeline(stage('a', log), stage('b', log)))
    const done = task.run()
    await task.queueFrames(textFrames(3))
    const result = await task.stop()
    expect(result.status).toBe('stopped')
    expect(await done).toBe(result)
    expect(log.sort()).toEqual(['a', 'b'])
  })

  it('end still drains: every frame queued before it comes out, then end', async () => {
    const log: string[] = []
    const handle = run(pipeline(stage('a', log), stage('b', log)), textFrames(200))
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    expect(texts(out)).toHaveLength(200)
    expect(out.at(-1)?.type).toBe('end')
    expect((await handle.result).status).toBe('ended')
    expect(log.sort()).toEqual(['a', 'b'])
  })
})

describe('every stage is finalized, even next to a stuck one', () => {
  it('a stage after a processor that ignores the signal runs its finally; the task ends on the cancel timeout', async () => {
    const log: string[] = []
    const task = new PipelineTask(pipeline(stage('before', log), stage('stuck', log, true), stage('after', log)), {
      cancelTimeoutMs: 100,
    })
    const output = task.frames()
    const reading = (async () => {
      for await (const _ of output);
    })()
    const done = task.run()
    await task.queueFrame(Frames.text('x'))
    await sleep(20)
    const result = await task.cancel()
    await reading
    expect(result.status).toBe('cancelled')
    expect(await done).toBe(result)
    // 'stuck' never returns (it ignores the signal): only it is cut off.
    expect(log.sort()).toEqual(['after', 'before'])
  })

  it('cancel() while nobody reads frames(), next to a stuck stage: every other stage is finalized when it resolves', async () => {
    const log: string[] = []
    const task = new PipelineTask(pipeline(stage('before', log), stage('stuck', log, true), stage('after', log)), {
      cancelTimeoutMs: 100,
    })
    const done = task.run()
    await task.queueFrame(Frames.text('x'))
    await sleep(20)
    const result = await task.cancel()
    expect(result.status).toBe('cancelled')
    expect(await done).toBe(result)
    expect(log.sort()).toEqual(['after', 'before'])
  })

  it('cancel() while nobody reads frames(): resolves once every stage is finalized, not after the timeout', async () => {
    const log: string[] = []
    const parked = deferred()
    const waiter: ProcessorFn = async function* waiter(source, ctx) {
      try {
        for await (const f of source) {
          if (f.type === 'text') {
            parked.resolve()
            await sleep(60_000, ctx.signal)
          }
          yield f
        }
      } finally {
        log.push('waiter')
      }
    }
    const task = new PipelineTask(pipeline(stage('a', log), waiter, stage('b', log)), { cancelTimeoutMs: 30_000 })
    const done = task.run()
    await task.queueFrame(Frames.text('x'))
    await parked.promise
    const t0 = performance.now()
    const result = await task.cancel()
    expect(result.status).toBe('cancelled')
    expect(log.sort()).toEqual(['a', 'b', 'waiter'])
    expect(performance.now() - t0).toBeLessThan(10_000)
    expect(await done).toBe(result)
  })

  it('iterating a pipeline directly: return() while a stage is stuck ends the pending read and finalizes the others', async () => {
    const log: string[] = []
    async function* source(): AsyncGenerator<Frame> {
      yield Frames.text('a')
      yield Frames.text('b')
    }
    const p = pipeline(stage('first', log), stage('stuck', log, true), stage('last', log))
    // 'stuck' parks on its first text: the read waits until the consumer closes the pipeline.
    const it = p(source(), undefined as never)[Symbol.asyncIterator]()
    const pending = it.next()
    await sleep(10)
    const t0 = performance.now()
    await it.return?.()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(performance.now() - t0).toBeLessThan(4_000)
    expect(log.sort()).toEqual(['first', 'last'])
  })
})

describe('run() never leaks a task', () => {
  it('an input whose [Symbol.asyncIterator]() throws: iteration throws a PipelineError, result settles errored', async () => {
    let stagesCreated = 0
    const counting: Processor = async function* (source) {
      stagesCreated++
      yield* source
    }
    const locked = {
      [Symbol.asyncIterator](): AsyncIterator<Frame> {
        throw new TypeError('the stream is locked')
      },
    }
    const handle = run(counting, locked)
    await expect(async () => {
      for await (const _ of handle);
    }).rejects.toBeInstanceOf(PipelineError)
    const result = await Promise.race([handle.result, sleep(2_000).then(() => undefined)])
    expect(result?.status).toBe('errored')
    expect(result?.error?.processor).toBe('input')
    expect(result?.error?.error).toBe('the stream is locked')
    expect(stagesCreated).toBe(0)
  })

  it('an input whose next() threw is not closed (the iterator protocol: it is done)', async () => {
    let returned = 0
    const input: AsyncIterable<Frame> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new Error('broken input')),
        return: () => {
          returned++
          return Promise.resolve({ done: true as const, value: undefined })
        },
      }),
    }
    const handle = run(pipeline(), input)
    await expect(async () => {
      for await (const _ of handle);
    }).rejects.toThrow('broken input')
    await sleep(5)
    expect(returned).toBe(0)
  })

  it('an input that produced a non-frame is closed', async () => {
    let returned = 0
    async function* input(): AsyncGenerator<Frame> {
      try {
        yield Frames.text('a')
        yield 'oops' as unknown as Frame
        yield Frames.text('b')
      } finally {
        returned++
      }
    }
    const handle = run(pipeline(), input())
    await expect(async () => {
      for await (const _ of handle);
    }).rejects.toBeInstanceOf(PipelineError)
    expect(returned).toBe(1)
    expect((await handle.result).status).toBe('errored')
  })
})

describe('a value that is not a frame never travels on (rule 14)', () => {
  const collectRun = async (p: ProcessorFn): Promise<{ out: unknown[]; up: Frame[]; status: string }> => {
    const up: Frame[] = []
    const handle = run(p, [Frames.text('a')], { onUpstream: (f) => up.push(f), cancelTimeoutMs: 200 })
    const out: unknown[] = []
    for await (const f of handle) out.push(f)
    return { out, up, status: (await handle.result).status }
  }

  it('a processor yielding a raw value: an error naming it, the value never reaches the consumer', async () => {
    const bad: Processor = async function* bad(source) {
      for await (const f of source) {
        yield f
        if (f.type === 'text') yield 'oops' as unknown as Frame
      }
    }
    const { out, up, status } = await collectRun(bad)
    expect(out.every((f) => Frames.isFrame(f))).toBe(true)
    expect(types(out as Frame[])).toEqual(['start', 'text', 'end'])
    const errors = up.filter(Frames.is('error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ fatal: false, processor: expect.stringContaining('bad') })
    expect(errors[0]?.error).toContain('"oops"')
    expect(status).toBe('ended')
  })

  it('a yielded undefined is reported naming the processor and the run goes on', async () => {
    const undef: Processor = async function* undef(source) {
      for await (const f of source) {
        yield f
        yield undefined as unknown as Frame
      }
    }
    const { out, up, status } = await collectRun(undef)
    expect(types(out as Frame[])).toEqual(['start', 'text', 'end'])
    expect(up.filter(Frames.is('error')).every((e) => e.processor?.includes('undef') === true)).toBe(true)
    expect(up.filter(Frames.is('error')).length).toBeGreaterThan(0)
    expect(status).toBe('ended')
  })

  it('a syncParallel branch yielding undefined neither spins nor loses the run', async () => {
    const undef: Processor = async function* undef(source) {
      for await (const f of source) {
        yield f
        yield undefined as unknown as Frame
      }
    }
    const { out, up, status } = await collectRun(syncParallel(undef))
    expect(types(out as Frame[])).toEqual(['start', 'text', 'end'])
    expect(up.filter(Frames.is('error')).every((e) => e.processor?.includes('undef') === true)).toBe(true)
    expect(status).toBe('ended')
  })

  it('a processor yielding nothing but non-frames is still cancelled on time', async () => {
    const flood: Processor = async function* flood(source) {
      for await (const f of source) {
        yield f
        for (;;) yield 42 as unknown as Frame
      }
    }
    const controller = new AbortController()
    const handle = run(flood, [Frames.text('a')], { signal: controller.signal, cancelTimeoutMs: 100 })
    setTimeout(() => controller.abort(), 30)
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    expect((await handle.result).status).toBe('cancelled')
  })

  it('a fused map returning a non-frame: the error names that map', async () => {
    const { map, filter } = await import('../../lib/index.js')
    const p = pipeline(
      filter(() => true, 'keep'),
      map((f) => (f.type === 'text' ? (null as unknown as Frame) : f), 'broken'),
      map((f) => f, 'after'),
    )
    const { out, up } = await collectRun(p)
    expect(types(out as Frame[])).toEqual(['start', 'end'])
    expect(up.filter(Frames.is('error')).map((e) => e.processor)).toEqual([expect.stringMatching(/\/broken$/)])
  })

  it('ctx.pushUpstream(nonFrame): an error naming the processor goes upstream instead', async () => {
    const pusher: ProcessorFn = async function* pusher(source, ctx) {
      for await (const f of source) {
        if (f.type === 'text') ctx.pushUpstream({ nope: true } as unknown as Frame)
        yield f
      }
    }
    const { up, status } = await collectRun(pusher)
    expect(up.every((f) => Frames.isFrame(f))).toBe(true)
    const errors = up.filter(Frames.is('error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]?.processor).toMatch(/pusher$/)
    expect(status).toBe('ended')
  })
})

describe('listeners', () => {
  it('a task with many buffered stages adds no listener per stage to a signal (no MaxListenersExceededWarning)', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error): void => {
      warnings.push(w.name)
    }
    process.on('warning', onWarning)
    try {
      const controller = new AbortController()
      const p = pipeline(...Array.from({ length: 15 }, () => buffer({ capacity: 2 })))
      const out: Frame[] = []
      for await (const f of run(p, textFrames(5), { signal: controller.signal })) out.push(f)
      expect(texts(out)).toHaveLength(5)
      await sleep(10)
      expect(warnings).not.toContain('MaxListenersExceededWarning')
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('a pipeline that swallows end', () => {
  it('is reported: the task records an error naming itself, and the run still finishes', async () => {
    const dropEnd: Processor = async function* dropEnd(source) {
      for await (const f of source) if (f.type !== 'end') yield f
    }
    const handle = run(dropEnd, textFrames(2))
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    const result = await handle.result
    expect(types(out)).toEqual(['start', 'text', 'text'])
    expect(result.status).toBe('ended')
    expect(result.errors.map((e) => e.error)).toEqual([expect.stringContaining('without passing end')])
  })

  it('a pipeline that stops reading early is reported the same way', async () => {
    const takeTwo: Processor = async function* takeTwo(source) {
      let n = 0
      for await (const f of source) {
        yield f
        if (++n === 2) return
      }
    }
    const handle = run(takeTwo, textFrames(10))
    for await (const _ of handle);
    expect((await handle.result).errors.map((e) => e.processor)).toEqual([expect.stringMatching(/^PipelineTask#/)])
  })
})

describe('run() handle interrupt()', () => {
  it('interrupts the running pipeline: ctx.signal aborts and startInterruption reaches the consumer', async () => {
    const started = deferred()
    let aborted: unknown
    const slow: ProcessorFn = async function* slow(source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text === 'long') {
          started.resolve()
          try {
            await sleep(60_000, ctx.signal)
          } catch (err) {
            aborted = err
            continue
          }
        }
        yield f
      }
    }
    const gate = deferred()
    async function* input(): AsyncGenerator<Frame> {
      yield Frames.text('long')
      await gate.promise
      yield Frames.text('after')
    }
    const handle = run(slow, input(), { allowInterruptions: true })
    expect(handle.interrupt()).toBe(false) // not running yet
    const out: Frame[] = []
    const reading = (async () => {
      for await (const f of handle) out.push(f)
    })()
    await started.promise
    expect(handle.interrupt()).toBe(true)
    gate.resolve()
    await reading
    expect(aborted).toBeDefined()
    expect(types(out)).toEqual(['start', 'startInterruption', 'text', 'end'])
    expect(texts(out)).toEqual(['after'])
    expect(handle.interrupt()).toBe(false) // over
  })
})
