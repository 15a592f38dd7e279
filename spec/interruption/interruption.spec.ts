import { describe, expect, it } from 'vitest'
import { Frames, InterruptedError, pipeline, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { buffer, buffered } from '../../lib/processors/buffered.js'
import { deferred, startTask, texts, tick, types } from '../helpers/collect.js'

/** A promise that only settles when `signal` aborts (a model call that never answers by itself). */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

async function until(cond: () => boolean, turns = 200): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await tick()
  expect(cond()).toBe(true)
}

describe('interruption', () => {
  it('aborts the in-flight await with InterruptedError, restarts the processor and gives it a fresh signal', async () => {
    const reasons: unknown[] = []
    const signals: AbortSignal[] = []
    const waiting = { n: 0 }
    const llm: ProcessorFn = async function* llm(source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text === 'wait') {
          signals.push(ctx.signal)
          waiting.n++
          try {
            await hang(ctx.signal)
          } catch (err) {
            reasons.push(err)
            throw err
          }
        }
        yield f
      }
    }
    const { task, out, finish } = startTask(pipeline(llm), { allowInterruptions: true })
    await task.queueFrame(Frames.text('wait'))
    await until(() => waiting.n === 1)
    expect(task.interrupt()).toBe(true)
    await task.queueFrames([Frames.text('after'), Frames.text('wait')])
    await until(() => waiting.n === 2)
    expect(signals[0]?.aborted).toBe(true)
    expect(signals[1]?.aborted).toBe(false)
    task.interrupt()
    task.stopWhenDone()
    const result = await finish()
    expect(result.status).toBe('ended')
    expect(result.errors).toEqual([])
    expect(reasons).toHaveLength(2)
    expect(reasons.every((r) => r instanceof InterruptedError)).toBe(true)
    expect(types(out)).toEqual(['start', 'startInterruption', 'text', 'startInterruption', 'end'])
    expect(texts(out)).toEqual(['after'])
  })

  it('is refused without allowInterruptions: nothing aborts, nothing is dropped, no startInterruption', async () => {
    const seen: AbortSignal[] = []
    const p: ProcessorFn = async function* p(source, ctx) {
      for await (const f of source) {
        seen.push(ctx.signal)
        yield f
      }
    }
    const { task, out, finish } = startTask(pipeline(p, buffer()))
    await task.queueFrames([Frames.text('a'), Frames.text('b')])
    expect(task.interrupt()).toBe(false)
    task.stopWhenDone()
    await finish()
    expect(types(out)).toEqual(['start', 'text', 'text', 'end'])
    // (the run's end aborts the signal with a CancelledError; no interruption did)
    expect(seen.some((s) => s.reason instanceof InterruptedError)).toBe(false)
  })

  it('an interruptionTask frame pushed upstream interrupts when allowed, and is ignored otherwise', async () => {
    for (const allowInterruptions of [true, false]) {
      let aborted = false
      const vad: ProcessorFn = async function* vad(source, ctx) {
        for await (const f of source) {
          if (f.kind === 'data' && f.type === 'text' && f.text === 'user speaks') ctx.pushUpstream(Frames.interruptionTask())
          yield f
        }
      }
      const llm: ProcessorFn = async function* llm(source, ctx) {
        const signal = ctx.signal
        signal.addEventListener('abort', () => {
          if (signal.reason instanceof InterruptedError) aborted = true
        })
        yield* source
      }
      const { task, out, finish } = startTask(pipeline(llm, vad), { allowInterruptions })
      await task.queueFrame(Frames.text('user speaks'))
      await until(() => out.length >= 2)
      await tick()
      task.stopWhenDone()
      await finish()
      expect(aborted).toBe(allowInterruptions)
      expect(types(out).includes('startInterruption')).toBe(allowInterruptions)
      expect(out.at(-1)?.type).toBe('end')
    }
  })

  it('drops the words a buffered LLM has queued; startInterruption reaches the sink ahead of them; the next answer follows', async () => {
    const open = deferred()
    const spoke = { n: 0 }
    const llm: ProcessorFn = async function* llm(source, ctx) {
      for await (const f of source) {
        if (f.kind !== 'data' || f.type !== 'text') {
          yield f
          continue
        }
        for (const w of ['one', 'two', 'three', 'four', 'five']) {
          if (ctx.signal.aborted) throw ctx.signal.reason
          yield Frames.text(`${f.text}:${w}`)
          spoke.n++
        }
      }
    }
    const tts: Processor = async function* tts(source) {
      for await (const f of source) {
        if (f.kind === 'data') await open.promise
        yield f
      }
    }
    const dropped: Frame[] = []
    const { task, out, finish } = startTask(pipeline(buffered(llm, { capacity: 3, onDrop: (fs) => dropped.push(...fs) }), tts), {
      allowInterruptions: true,
    })
    await task.queueFrame(Frames.text('q1'))
    await until(() => spoke.n >= 3)
    expect(task.interrupt()).toBe(true)
    await task.queueFrame(Frames.text('q2'))
    await tick()
    open.resolve()
    task.stopWhenDone()
    await finish()
    const said = texts(out)
    // tts held one word when the interruption came; the queued ones were dropped.
    expect(said.filter((t) => t.startsWith('q1')).length).toBeLessThanOrEqual(1)
    expect(said.filter((t) => t.startsWith('q2'))).toEqual(['q2:one', 'q2:two', 'q2:three', 'q2:four', 'q2:five'])
    expect(dropped.length).toBeGreaterThanOrEqual(2)
    const si = types(out).indexOf('startInterruption')
    expect(si).toBeGreaterThan(0)
    expect(out.findIndex((f) => f.kind === 'data' && f.type === 'text' && f.text.startsWith('q2'))).toBeGreaterThan(si)
    expect(out.at(-1)?.type).toBe('end')
  })

  it('keeps queued control frames in order behind startInterruption; stopInterruption drops nothing and follows in order', async () => {
    const open = deferred()
    const hold: Processor = async function* hold(source) {
      for await (const f of source) {
        if (f.kind !== 'system' && f.type !== 'start') await open.promise
        yield f
      }
    }
    const { task, out, finish } = startTask(pipeline(buffer({ capacity: 16 }), hold), { allowInterruptions: true })
    await task.queueFrames([Frames.text('a'), Frames.sync(), Frames.text('b'), Frames.syncNotify(), Frames.text('c')])
    await tick()
    await tick()
    task.interrupt()
    await task.queueFrames([Frames.text('d'), Frames.stopInterruption(), Frames.text('e')])
    await tick()
    open.resolve()
    task.stopWhenDone()
    await finish()
    const order = types(out)
    expect(order.indexOf('startInterruption')).toBeLessThan(order.indexOf('stopInterruption'))
    // Control frames queued before the interruption survive, in order.
    expect(order.filter((t) => t === 'sync' || t === 'syncNotify')).toEqual(['sync', 'syncNotify'])
    // 'a' was held by `hold` when the interruption came: handed over after it, it is stale and dropped (rule 15);
    // b and c were queued and dropped; d and e are new input.
    expect(texts(out)).toEqual(['d', 'e'])
    expect(task.staleFrames).toBe(1)
    expect(order.at(-1)).toBe('end')
  })

  it('sends exactly one startInterruption through several buffers in series', async () => {
    const open = deferred()
    const hold: Processor = async function* hold(source) {
      for await (const f of source) {
        if (f.kind === 'data') await open.promise
        yield f
      }
    }
    const { task, out, finish } = startTask(pipeline(buffer({ capacity: 2 }), buffer({ capacity: 2 }), buffer({ capacity: 2 }), hold), {
      allowInterruptions: true,
    })
    await task.queueFrames(Array.from({ length: 12 }, (_, i) => Frames.text(String(i))))
    await tick()
    task.interrupt()
    await tick()
    open.resolve()
    task.stopWhenDone()
    await finish()
    expect(types(out).filter((t) => t === 'startInterruption')).toHaveLength(1)
    expect(out.at(-1)?.type).toBe('end')
  })

  it('sends startInterruption even after the input has ended, and end still comes last', async () => {
    const open = deferred()
    const hold: Processor = async function* hold(source) {
      for await (const f of source) {
        if (f.kind === 'data') await open.promise
        yield f
      }
    }
    const { task, out, finish } = startTask(pipeline(buffer(), buffer(), hold), { allowInterruptions: true })
    await task.queueFrames([Frames.text('a'), Frames.text('b'), Frames.text('c'), Frames.end()])
    for (let i = 0; i < 10; i++) await tick()
    expect(task.interrupt()).toBe(true)
    open.resolve()
    await finish()
    expect(types(out).filter((t) => t === 'startInterruption')).toHaveLength(1)
    expect(out.at(-1)?.type).toBe('end')
    // 'a' was held by `hold` when the interruption came: stale, dropped at its stage boundary (rule 15).
    expect(texts(out)).toEqual([])
    expect(task.staleFrames).toBe(1)
  })

  it('never drops cancel: a cancel right after an interruption ends the task as cancelled', async () => {
    let finalized = false
    const llm: ProcessorFn = async function* llm(source, ctx) {
      try {
        for await (const f of source) {
          if (f.kind === 'data') await hang(ctx.signal)
          yield f
        }
      } finally {
        finalized = true
      }
    }
    const { task, out, finish } = startTask(pipeline(buffered(llm)), { allowInterruptions: true, cancelTimeoutMs: 200 })
    await task.queueFrames([Frames.text('a'), Frames.text('b')])
    await tick()
    task.interrupt()
    void task.cancel()
    const result = await finish()
    expect(result.status).toBe('cancelled')
    expect(finalized).toBe(true)
    expect(types(out).includes('end')).toBe(false)
  })
})
