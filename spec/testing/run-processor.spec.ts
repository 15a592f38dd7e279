import { afterEach, describe, expect, it, vi } from 'vitest'
import { FatalError, Frames, map, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { interrupt, isInterrupt, isSleep, runProcessor, sleep, withoutLifecycle } from '../../lib/testing/index.js'

const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
const types = (frames: readonly Frame[]): string[] => frames.map((f) => f.type)
const texts = (frames: readonly Frame[]): string[] => frames.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))

/** Waits `ms` per text frame (on the clock of setTimeout), honouring the signal. */
const slow = (ms: number): ProcessorFn =>
  async function* slow(source, ctx) {
    for await (const frame of source) {
      if (frame.kind === 'data' && frame.type === 'text') {
        const signal = ctx.signal
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms)
          signal.addEventListener('abort', () => {
            clearTimeout(timer)
            reject(signal.reason)
          }, { once: true })
        })
      }
      yield frame
    }
  }

/** Emits an app frame `idle` whenever no frame has arrived for `ms`. */
const idle = (ms: number): ProcessorFn =>
  async function* idle(source) {
    const pending: Frame[] = []
    let wake: (() => void) | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const arm = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        pending.push(Frames.app('idle', ms))
        wake?.()
      }, ms)
    }
    const it = source[Symbol.asyncIterator]()
    let next = it.next()
    try {
      arm()
      for (;;) {
        const r = await Promise.race([next, new Promise<'wake'>((resolve) => (wake = () => resolve('wake')))])
        while (pending.length > 0) yield pending.shift() as Frame
        if (r === 'wake') continue
        if (r.done === true) return
        arm()
        yield r.value
        next = it.next()
      }
    } finally {
      clearTimeout(timer)
      await it.return?.()
    }
  }

afterEach(() => {
  vi.useRealTimers()
})

describe('runProcessor', () => {
  it('sends start, the frames and end, and collects the frames that reach the end', async () => {
    const r = await runProcessor(upper, [Frames.text('hi'), Frames.sync(), Frames.text('yo')])
    expect(r.status).toBe('ended')
    expect(r.timedOut).toBe(false)
    expect(types(r.downstream)).toEqual(['start', 'text', 'sync', 'text', 'end'])
    expect(texts(r.downstream)).toEqual(['HI', 'YO'])
    expect(r.upstream).toEqual([])
  })

  it('builds start from the options', async () => {
    const r = await runProcessor(upper, [], { allowInterruptions: true, audioInSampleRate: 8000 })
    const start = r.downstream[0]
    expect(start?.kind === 'control' && start.type === 'start' && [start.allowInterruptions, start.audioInSampleRate]).toEqual([true, 8000])
  })

  it('collects frames pushed upstream and passes them to options.onUpstream too', async () => {
    const echo: ProcessorFn = async function* echo(source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.app('heard', f.text))
        yield f
      }
    }
    const seen: Frame[] = []
    const r = await runProcessor(echo, [Frames.text('a'), Frames.text('b')], { onUpstream: (f) => seen.push(f) })
    expect(r.upstream.map((f) => (f.kind === 'app' ? f.data : f.type))).toEqual(['a', 'b'])
    expect(seen).toEqual(r.upstream)
  })

  it('reports a thrown error upstream and goes on; a fatal one ends the run as errored', async () => {
    const failing = (fatal: boolean): Processor =>
      async function* failing(source) {
        for await (const f of source) {
          if (f.kind === 'data' && f.type === 'text' && f.text === 'bad') throw fatal ? new FatalError('fatal bad') : new Error('bad')
          yield f
        }
      }
    const soft = await runProcessor(failing(false), [Frames.text('ok'), Frames.text('bad'), Frames.text('ok2')])
    expect(soft.status).toBe('ended')
    expect(texts(soft.downstream)).toEqual(['ok', 'ok2'])
    expect(soft.upstream.map((f) => f.kind === 'system' && f.type === 'error' && f.error)).toEqual(['bad'])
    expect(soft.result.errors).toHaveLength(1)

    const hard = await runProcessor(failing(true), [Frames.text('ok'), Frames.text('bad'), Frames.text('never')])
    expect(hard.status).toBe('errored')
    expect(hard.result.error?.error).toBe('fatal bad')
    expect(texts(hard.downstream)).not.toContain('never')
  })

  it('follows the task rules for lifecycle frames in the input', async () => {
    const r = await runProcessor(upper, [Frames.start(), Frames.text('a'), Frames.end(), Frames.text('dropped')])
    expect(types(r.downstream)).toEqual(['start', 'text', 'end'])
    const c = await runProcessor(upper, [Frames.text('a'), Frames.cancel(), Frames.text('b')])
    expect(c.status).toBe('cancelled')
    expect(texts(c.downstream)).not.toContain('B')
  })

  it('with sendEnd: false, the processor ends the run', async () => {
    const closer: ProcessorFn = async function* closer(source, ctx) {
      for await (const f of source) {
        yield f
        if (f.type === 'sync') ctx.pushUpstream(Frames.end())
      }
    }
    const r = await runProcessor(closer, [Frames.text('a'), Frames.sync()], { sendEnd: false })
    expect(r.status).toBe('ended')
    expect(r.timedOut).toBe(false)
    expect(types(r.downstream)).toEqual(['start', 'text', 'sync', 'end'])
    expect(r.upstream.map((f) => f.type)).toEqual(['end'])
  })

  it('with sendEnd: false and nothing ending the run, it is cancelled after timeoutMs (fake time)', async () => {
    vi.useFakeTimers()
    const t0 = Date.now()
    const r = await runProcessor(upper, [Frames.text('a')], { sendEnd: false, timeoutMs: 60_000, fakeTimers: vi, tickMs: 1000 })
    expect(r.timedOut).toBe(true)
    expect(r.status).toBe('cancelled')
    expect(texts(r.downstream)).toEqual(['A'])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(60_000)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('advances fake timers while a processor waits on them', async () => {
    vi.useFakeTimers()
    const t0 = Date.now()
    const r = await runProcessor(slow(1000), [Frames.text('a'), Frames.text('b'), Frames.text('c')], { fakeTimers: vi })
    expect(r.status).toBe('ended')
    expect(texts(r.downstream)).toEqual(['a', 'b', 'c'])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('waits at sleep() steps, in fake time', async () => {
    vi.useFakeTimers()
    const input = [Frames.text('a'), sleep(1000), Frames.text('b'), sleep(200), Frames.text('c')]
    const r = await runProcessor(idle(500), input, { fakeTimers: vi })
    expect(r.status).toBe('ended')
    expect(withoutLifecycle(r.downstream).map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))).toEqual(['a', 'idle', 'b', 'c'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('accepts a fake-timers clock with tickAsync, or an advance function', async () => {
    vi.useFakeTimers()
    const clock = { tickAsync: (ms: number) => vi.advanceTimersByTimeAsync(ms) }
    const a = await runProcessor(slow(500), [Frames.text('x')], { fakeTimers: clock })
    expect(texts(a.downstream)).toEqual(['x'])
    const advanced: number[] = []
    const b = await runProcessor(slow(500), [Frames.text('y')], {
      fakeTimers: async (ms: number) => {
        advanced.push(ms)
        await vi.advanceTimersByTimeAsync(ms)
      },
      tickMs: 50,
    })
    expect(texts(b.downstream)).toEqual(['y'])
    expect(advanced.length).toBeGreaterThanOrEqual(10)
    expect(advanced.every((ms) => ms === 50)).toBe(true)
  })

  it('times out a hung processor in real time and cancels it', async () => {
    const hung: ProcessorFn = async function* hung(source, ctx) {
      for await (const f of source) {
        yield f
        if (f.kind === 'data' && f.type === 'text') await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
      }
    }
    const r = await runProcessor(hung, [Frames.text('a'), Frames.text('b')], { timeoutMs: 50 })
    expect(r.timedOut).toBe(true)
    expect(r.status).toBe('cancelled')
  })

  it('fires an interrupt() step only once the frames before it were read, so it never overtakes queued input', async () => {
    vi.useFakeTimers()
    const input = [Frames.text('a'), Frames.text('b'), Frames.text('c'), interrupt(), Frames.text('d')]
    const r = await runProcessor(slow(100), input, { allowInterruptions: true, fakeTimers: vi })
    expect(r.status).toBe('ended')
    // 'a' and 'b' were handled, 'c' was being handled when the interruption came; 'd' is input of after it.
    expect(withoutLifecycle(r.downstream).map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))).toEqual(['a', 'b', 'startInterruption', 'd'])
    expect(r.upstream).toEqual([])
    expect(vi.getTimerCount()).toBe(0)

    // An interruptionTask frame in the input acts at once instead: it overtakes the queued input, and lands before
    // the processor has even read 'a' (what tests used to work around with sleeps).
    const early = await runProcessor(slow(100), [Frames.text('a'), Frames.text('b'), Frames.text('c'), Frames.interruptionTask(), Frames.text('d')], {
      allowInterruptions: true,
      fakeTimers: vi,
    })
    expect(withoutLifecycle(early.downstream).map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))).toEqual(['startInterruption', 'a', 'b', 'c', 'd'])
  })

  it('interrupt() after sleep() lands at an exact fake time in the middle of the work', async () => {
    vi.useFakeTimers()
    const words: ProcessorFn = async function* words(source, ctx) {
      for await (const f of source) {
        if (f.kind !== 'data' || f.type !== 'text') {
          yield f
          continue
        }
        for (const w of ['one', 'two', 'three', 'four']) {
          const signal = ctx.signal
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, 100)
            signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true })
          })
          yield Frames.text(w)
        }
      }
    }
    const r = await runProcessor(words, [Frames.text('go'), sleep(250), interrupt(), Frames.text('again')], { allowInterruptions: true, fakeTimers: vi, tickMs: 10 })
    expect(withoutLifecycle(r.downstream).map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))).toEqual(
      ['one', 'two', 'startInterruption', 'one', 'two', 'three', 'four'],
    )
  })

  it('an interrupt() step keeps stage names, and does not wait for frames the task drops', async () => {
    const fragile: Processor = async function* fragile(source) {
      for await (const f of source) {
        if (f.kind === 'data') throw new Error('boom')
        yield f
      }
    }
    const r = await runProcessor(fragile, [Frames.sync(), interrupt(), Frames.text('x')], { allowInterruptions: true })
    const plain = await runProcessor(fragile, [Frames.sync(), Frames.text('x')])
    const names = (frames: readonly Frame[]): unknown[] => frames.map((f) => f.kind === 'system' && f.type === 'error' && f.processor?.replace(/#\d+/, '#N'))
    expect(names(r.upstream)).toEqual(names(plain.upstream))
    expect(names(r.upstream)).toEqual(['PipelineTask#N/fragile'])
    // A start frame and frames after end never reach the processor: the step does not wait for them.
    const dropped = await runProcessor(upper, [Frames.start(), interrupt(), Frames.text('a'), Frames.end(), Frames.text('late'), interrupt()], {
      allowInterruptions: true,
      timeoutMs: 2000,
    })
    expect(dropped.timedOut).toBe(false)
    expect(types(dropped.downstream)).toEqual(['start', 'startInterruption', 'text', 'end'])
  })

  it('rejects bad arguments with a TypeError', async () => {
    await expect(runProcessor(upper, [interrupt()])).rejects.toThrow(/allowInterruptions/)
    expect(isInterrupt(interrupt())).toBe(true)
    expect(isInterrupt(Frames.interruptionTask())).toBe(false)
    await expect(runProcessor('x' as never, [])).rejects.toThrow(TypeError)
    await expect(runProcessor(upper, 5 as never)).rejects.toThrow(/iterable/)
    await expect(runProcessor(upper, [Frames.text('a'), { type: 'text' } as never])).rejects.toThrow(/\[1\]/)
    await expect(runProcessor(upper, [], { fakeTimers: {} as never })).rejects.toThrow(/fakeTimers/)
    await expect(runProcessor(upper, [], { timeoutMs: 0 })).rejects.toThrow(TypeError)
    expect(() => sleep(-1)).toThrow(TypeError)
    expect(() => sleep(Number.NaN)).toThrow(TypeError)
    expect(isSleep(sleep(0))).toBe(true)
    expect(isSleep({ ms: 1 })).toBe(false)
  })
})
