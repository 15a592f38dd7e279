import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CancelledError,
  Frames,
  PipelineError,
  PipelineTask,
  pipeline,
  run,
  type Frame,
  type Processor, type ProcessorFn,
} from '../../lib/index.js'
import { collect, deferred, sleep, startTask, textFrames, texts, tick, types } from '../helpers/collect.js'

/** A pass-through processor that records what it saw and whether its finally ran. */
function probe(name: string, log: { seen: Frame[]; finallies: string[] }): Processor {
  return async function* probeStage(source) {
    try {
      for await (const f of source) {
        log.seen.push(f)
        yield f
      }
    } finally {
      log.finallies.push(name)
    }
  }
}

const activeTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

afterEach(() => {
  vi.useRealTimers()
})

describe('start (rule 2)', () => {
  it('start is the first frame every processor sees, with the run options', async () => {
    const log = { seen: [] as Frame[], finallies: [] as string[] }
    const { out } = await collect(pipeline(probe('a', log)), textFrames(2), { allowInterruptions: true })
    expect(log.seen[0]).toMatchObject({ type: 'start', allowInterruptions: true })
    expect(out[0]?.type).toBe('start')
  })

  it('a second start in the input starts nothing twice', async () => {
    const { out } = await collect(pipeline(), [Frames.start(), Frames.text('a'), Frames.start(), Frames.text('b')])
    expect(types(out)).toEqual(['start', 'text', 'text', 'end'])
  })

  it('ctx.start holds the start parameters once start has passed', async () => {
    let seenParams: unknown
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        seenParams = ctx.start?.audioInSampleRate
        yield f
      }
    }
    await collect(p, textFrames(1), { audioInSampleRate: 8000 })
    expect(seenParams).toBe(8000)
  })
})

describe('end (rule 3)', () => {
  it('end drains every stage, is the last frame out, and every finally has run when run finishes', async () => {
    const log = { seen: [] as Frame[], finallies: [] as string[] }
    const slow: Processor = async function* slow(source) {
      for await (const f of source) {
        await tick()
        yield f
      }
    }
    const { out, result } = await collect(pipeline(probe('a', log), slow, probe('b', log)), textFrames(20))
    expect(texts(out)).toHaveLength(20)
    expect(out.at(-1)?.type).toBe('end')
    expect(log.finallies.sort()).toEqual(['a', 'b'])
    expect(result.status).toBe('ended')
  })

  it('frames after end are not processed, and a second end is ignored', async () => {
    const log = { seen: [] as Frame[], finallies: [] as string[] }
    const { out } = await collect(probe('a', log), [Frames.text('a'), Frames.end(), Frames.text('late'), Frames.end()])
    expect(types(out)).toEqual(['start', 'text', 'end'])
    expect(texts(log.seen)).toEqual(['a'])
  })

  it('frames a processor emits after end are dropped', async () => {
    const chatty: Processor = async function* chatty(source) {
      yield* source
      yield Frames.text('after the end')
    }
    const { out } = await collect(chatty, textFrames(1))
    expect(types(out)).toEqual(['start', 'text', 'end'])
  })

  it('leaves no timer behind when run finishes', async () => {
    const before = activeTimers()
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        await sleep(1, ctx.signal)
        yield f
      }
    }
    await collect(p, textFrames(3))
    await tick()
    // Timers of earlier tests in this file may fire meanwhile (never more than before): none of this run's is left.
    expect(activeTimers()).toBeLessThanOrEqual(before)
  })

  it('stopWhenDone on a task ends it gracefully after the queued frames', async () => {
    const task = new PipelineTask(pipeline())
    const out = task.frames()
    await task.queueFrames(textFrames(3))
    task.stopWhenDone()
    const got: Frame[] = []
    const [result] = await Promise.all([
      task.run(),
      (async () => {
        for await (const f of out) got.push(f)
      })(),
    ])
    expect(result.status).toBe('ended')
    expect(types(got)).toEqual(['start', 'text', 'text', 'text', 'end'])
    expect(task.hasFinished()).toBe(true)
  })
})

describe('cancel (rule 4)', () => {
  it('cancel() while a processor is parked on an await: the signal aborts, its finally runs, status cancelled', async () => {
    const parked = deferred()
    let aborted: unknown
    const finallies: string[] = []
    const waiter: ProcessorFn = async function* waiter(source, ctx) {
      try {
        for await (const f of source) {
          if (f.type === 'text') {
            parked.resolve()
            try {
              await sleep(60_000, ctx.signal)
            } catch (err) {
              aborted = err
              throw err
            }
          }
          yield f
        }
      } finally {
        finallies.push('waiter')
      }
    }
    const task = new PipelineTask(pipeline(waiter, probe('after', { seen: [], finallies })))
    void task.queueFrames(textFrames(3))
    const done = task.run()
    await parked.promise
    const result = await task.cancel()
    expect(await done).toBe(result)
    expect(result.status).toBe('cancelled')
    expect(aborted).toBeInstanceOf(CancelledError)
    expect(finallies.sort()).toEqual(['after', 'waiter'])
    expect(result.errors).toEqual([])
  })

  it('a processor that ignores the signal is cut off after the cancel timeout', async () => {
    vi.useFakeTimers()
    const parked = deferred()
    const stuck: Processor = async function* stuck(source) {
      for await (const f of source) {
        if (f.type === 'text') {
          parked.resolve()
          await new Promise((resolve) => setTimeout(resolve, 3_600_000))
        }
        yield f
      }
    }
    const task = new PipelineTask(stuck, { cancelTimeoutMs: 500 })
    void task.queueFrames(textFrames(1))
    const done = task.run()
    await parked.promise
    void task.cancel()
    let settled = false
    void done.then(() => {
      settled = true
    })
    await vi.advanceTimersByTimeAsync(499)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(settled).toBe(true)
    expect((await done).status).toBe('cancelled')
    // let the abandoned processor finish so nothing is left running
    await vi.advanceTimersByTimeAsync(3_600_000)
  })

  it('a processor that ignores the cancel and keeps producing is still cut off after the cancel timeout', async () => {
    const runaway: ProcessorFn = async function* runaway(source) {
      for await (const f of source) {
        yield f
        if (f.kind === 'data') for (;;) yield Frames.text('again')
      }
    }
    const task = new PipelineTask(runaway, { cancelTimeoutMs: 20 })
    await task.queueFrame(Frames.text('go'))
    const done = task.run()
    // the runaway stage never waits: timers still get their turn, so this cancel happens and its deadline fires
    setTimeout(() => void task.cancel(), 5)
    const result = await done
    expect(result.status).toBe('cancelled')
  })

  it('options.signal cancels a run; iteration ends quietly and the result says cancelled', async () => {
    const controller = new AbortController()
    const log = { seen: [] as Frame[], finallies: [] as string[] }
    async function* endless(): AsyncGenerator<Frame> {
      let i = 0
      for (;;) {
        await tick()
        yield Frames.text(String(i++))
      }
    }
    const handle = run(probe('p', log), endless(), { signal: controller.signal })
    const out: Frame[] = []
    for await (const f of handle) {
      out.push(f)
      if (out.length === 5) controller.abort()
    }
    const result = await handle.result
    expect(result.status).toBe('cancelled')
    expect(log.finallies).toEqual(['p'])
  })

  it('an already aborted signal cancels before anything runs', async () => {
    const handle = run(pipeline(), textFrames(3), { signal: AbortSignal.abort() })
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    expect(out).toEqual([])
    expect((await handle.result).status).toBe('cancelled')
  })

  it('a cancel frame queued into a task cancels it and drops the queued input', async () => {
    const log = { seen: [] as Frame[], finallies: [] as string[] }
    const task = new PipelineTask(probe('p', log), { inputCapacity: 100 })
    await task.queueFrames(textFrames(10))
    await task.queueFrame(Frames.cancel())
    const result = await task.run()
    expect(result.status).toBe('cancelled')
    expect(texts(log.seen)).toEqual([])
  })

  it('cancel() before run() resolves at once as cancelled', async () => {
    const task = new PipelineTask(pipeline())
    expect((await task.cancel()).status).toBe('cancelled')
    expect((await task.run()).status).toBe('cancelled')
  })

  it('an upstream cancel frame cancels the task', async () => {
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text === '2') ctx.pushUpstream(Frames.cancel())
        yield f
      }
    }
    const { out, result } = await collect(p, textFrames(100), { inputCapacity: 4 })
    expect(result.status).toBe('cancelled')
    expect(texts(out).length).toBeLessThan(100)
  })

  it('early break by the consumer of run() tears down every stage', async () => {
    const log = { seen: [] as Frame[], finallies: [] as string[] }
    const slowSink: ProcessorFn = async function* slowSink(source) {
      for await (const f of source) {
        await tick()
        yield f
      }
    }
    const handle = run(pipeline(probe('a', log), slowSink, probe('b', log)), textFrames(1000))
    let n = 0
    for await (const _ of handle) {
      if (++n === 3) break
    }
    const result = await handle.result
    expect(result.status).toBe('cancelled')
    expect(log.finallies.sort()).toEqual(['a', 'b'])
    expect(log.seen.length).toBeLessThan(1000)
  })
})

describe('stop (rule 5)', () => {
  it('stop() stops without draining: status stopped', async () => {
    const task = new PipelineTask(pipeline(), { inputCapacity: 1000 })
    await task.queueFrames(textFrames(500))
    const out = task.frames()
    const done = task.run()
    const got: Frame[] = []
    for await (const f of out) {
      got.push(f)
      if (got.length === 3) void task.stop()
    }
    const result = await done
    expect(result.status).toBe('stopped')
    expect(texts(got).length).toBeLessThan(500)
  })

  it('a stopTask frame from upstream stops the task', async () => {
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.stopTask())
        yield f
      }
    }
    const { result } = await collect(p, textFrames(3))
    expect(result.status).toBe('stopped')
  })
})

describe('upstream reactions of the task (rule 7)', () => {
  it('an upstream end ends the task gracefully while the input is still open', async () => {
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text === 'bye') ctx.pushUpstream(Frames.end())
        yield f
      }
    }
    const task = new PipelineTask(p)
    const out = task.frames()
    const done = task.run()
    await task.queueFrame(Frames.text('hi'))
    await task.queueFrame(Frames.text('bye'))
    const got: Frame[] = []
    for await (const f of out) got.push(f)
    expect((await done).status).toBe('ended')
    expect(types(got)).toEqual(['start', 'text', 'text', 'end'])
  })

  it('an upstream interruptionTask interrupts when allowed: ctx.signal aborts and startInterruption follows', async () => {
    const states: string[] = []
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text === '0') {
          const before = ctx.signal
          ctx.pushUpstream(Frames.interruptionTask())
          states.push(`old aborted: ${before.aborted}`, `fresh aborted: ${ctx.signal.aborted}`)
        }
        yield f
      }
    }
    const { out } = await collect(p, textFrames(2), { allowInterruptions: true })
    expect(types(out)).toContain('startInterruption')
    expect(states).toEqual(['old aborted: true', 'fresh aborted: false'])
  })

  it('interruptions are ignored unless allowInterruptions is set', async () => {
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.interruptionTask())
        yield f
      }
    }
    const { out } = await collect(p, textFrames(2))
    expect(types(out)).not.toContain('startInterruption')
    const task = new PipelineTask(pipeline())
    expect(task.interrupt()).toBe(false)
    await task.cancel()
  })

  it('onUpstream sees every frame that reaches the top; a throwing onUpstream is recorded, not fatal', async () => {
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.app('note', f.text))
        yield f
      }
    }
    const handle = run(p, textFrames(2), {
      onUpstream: () => {
        throw new Error('observer broke')
      },
    })
    for await (const _ of handle) void _
    const result = await handle.result
    expect(result.status).toBe('ended')
    expect(result.errors.map((e) => e.error)).toEqual(['observer broke', 'observer broke'])
  })
})

describe('input queue', () => {
  it('is bounded: queueFrame waits while the queue is full', async () => {
    const task = new PipelineTask(pipeline(), { inputCapacity: 2 })
    await task.queueFrame(Frames.text('1'))
    await task.queueFrame(Frames.text('2'))
    let third = false
    const pending = task.queueFrame(Frames.text('3')).then(() => {
      third = true
    })
    await tick()
    expect(third).toBe(false)
    const out = task.frames()
    const done = task.run()
    const reader = (async () => {
      const got: Frame[] = []
      for await (const f of out) got.push(f)
      return got
    })()
    await pending
    expect(third).toBe(true)
    task.stopWhenDone()
    await done
    expect(texts(await reader)).toEqual(['1', '2', '3'])
  })

  it('system frames jump ahead of queued frames', async () => {
    const task = new PipelineTask(pipeline(), { inputCapacity: 10 })
    await task.queueFrames([Frames.text('a'), Frames.text('b')])
    await task.queueFrame(Frames.metrics())
    task.stopWhenDone()
    const out = task.frames()
    const done = task.run()
    const got: Frame[] = []
    for await (const f of out) got.push(f)
    await done
    expect(types(got)).toEqual(['start', 'metrics', 'text', 'text', 'end'])
  })

  it('frames queued by consecutive calls keep the order of the calls: an array that fits is queued at once', async () => {
    const { task, out, finish } = startTask(pipeline(), { inputCapacity: 10 })
    // Not awaited: the array's frames are in the queue before the next call, so neither `c` nor `end` overtakes them.
    void task.queueFrames([Frames.text('a'), Frames.text('b')])
    void task.queueFrame(Frames.text('c'))
    task.stopWhenDone()
    expect((await finish()).status).toBe('ended')
    expect(texts(out)).toEqual(['a', 'b', 'c'])
  })

  it('queueFrames over an array longer than the queue waits for room and keeps the order', async () => {
    const { task, out, finish } = startTask(pipeline(), { inputCapacity: 4 })
    await task.queueFrames(textFrames(50))
    task.stopWhenDone()
    expect((await finish()).status).toBe('ended')
    expect(texts(out)).toEqual(texts(textFrames(50)))
  })

  it('queueFrame rejects non-frames with a TypeError and loses nothing queued', async () => {
    const task = new PipelineTask(pipeline())
    await task.queueFrame(Frames.text('kept'))
    await expect(task.queueFrame({ type: 'text', text: 'x' } as unknown as Frame)).rejects.toThrow(TypeError)
    await expect(task.queueFrames(5 as unknown as Frame[])).rejects.toThrow(TypeError)
    task.stopWhenDone()
    const out = task.frames()
    const done = task.run()
    const got: Frame[] = []
    for await (const f of out) got.push(f)
    await done
    expect(texts(got)).toEqual(['kept'])
  })

  it('validates task parameters', () => {
    expect(() => new PipelineTask(pipeline(), { inputCapacity: 0 })).toThrow(TypeError)
    expect(() => new PipelineTask(pipeline(), { cancelTimeoutMs: -1 })).toThrow(TypeError)
    expect(() => new PipelineTask('x' as unknown as Processor)).toThrow(TypeError)
  })
})

describe('run() input', () => {
  it('accepts sync and async iterables and sends end when the input has none', async () => {
    async function* gen(): AsyncGenerator<Frame> {
      yield Frames.text('a')
    }
    expect(types((await collect(pipeline(), gen())).out)).toEqual(['start', 'text', 'end'])
    expect(types((await collect(pipeline(), new Set([Frames.text('b')]))).out)).toEqual(['start', 'text', 'end'])
  })

  it('an input that throws ends the run as errored with a PipelineError naming the input', async () => {
    async function* bad(): AsyncGenerator<Frame> {
      yield Frames.text('a')
      throw new Error('mic unplugged')
    }
    const handle = run(pipeline(), bad())
    const err = await (async () => {
      try {
        for await (const _ of handle) void _
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(err).toBeInstanceOf(PipelineError)
    expect((err as PipelineError).frame).toMatchObject({ processor: 'input', error: 'mic unplugged' })
  })

  it('an input value that is not a frame is a TypeError', async () => {
    const handle = run(pipeline(), [Frames.text('a'), 'oops' as unknown as Frame])
    await expect(
      (async () => {
        for await (const _ of handle) void _
      })(),
    ).rejects.toThrow(/needs a frame/)
  })

  it('rejects a missing input or processor with a TypeError', () => {
    expect(() => run(pipeline(), 3 as unknown as Frame[])).toThrow(TypeError)
    expect(() => run(null as unknown as Processor, [])).toThrow(TypeError)
  })

  it('can be iterated once', async () => {
    const handle = run(pipeline(), [])
    for await (const _ of handle) void _
    expect(() => handle[Symbol.asyncIterator]()).toThrow(TypeError)
  })

  it('closes the input iterator when the run is cancelled', async () => {
    let closed = false
    async function* endless(): AsyncGenerator<Frame> {
      try {
        for (;;) {
          await tick()
          yield Frames.text('x')
        }
      } finally {
        closed = true
      }
    }
    const handle = run(pipeline(), endless())
    let n = 0
    for await (const _ of handle) if (++n === 3) break
    await handle.result
    await tick()
    expect(closed).toBe(true)
  })
})
