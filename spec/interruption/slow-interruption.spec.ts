import { describe, expect, it, vi } from 'vitest'
import { Frames, named, pipeline, PipelineTask, warnSlowInterruption, type Frame, type ProcessorFn, type SlowInterruption } from '../../lib/index.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Answers each text with a slow word; `deaf` ignores ctx.signal (keeps working on old input after an interruption). */
function speaker(deaf: boolean, busy: () => void): ProcessorFn {
  return async function* (source, ctx) {
    for await (const f of source) {
      yield f
      if (f.kind !== 'data' || f.type !== 'text') continue
      const signal = ctx.signal
      busy()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 150)
        if (!deaf) signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
      })
      yield Frames.text('word')
    }
  }
}

async function interruptedRun(deaf: boolean, params: { slowInterruptionMs?: number }): Promise<SlowInterruption[]> {
  const warnings: SlowInterruption[] = []
  let busy!: () => void
  const working = new Promise<void>((resolve) => (busy = resolve))
  const stage = speaker(deaf, busy)
  const pass: ProcessorFn = async function* (source) {
    for await (const f of source) yield f
  }
  const task = new PipelineTask(pipeline(named('before', pass), named('llm', stage), named('after', pass)), {
    allowInterruptions: true,
    onSlowInterruption: (w) => warnings.push(w),
    ...params,
  })
  const out = task.frames()
  const reading = (async () => {
    for await (const _ of out as AsyncIterable<Frame>) void _
  })()
  const done = task.run()
  await task.queueFrame(Frames.text('hi'))
  await working // the stage is busy with 'hi' (not reading its source) when the interruption comes
  task.interrupt()
  await sleep(200)
  task.stopWhenDone()
  await done
  await reading
  return warnings
}

describe('slow-interruption warning', () => {
  it('names the stage that keeps working on input of before the interruption, once', async () => {
    const warnings = await interruptedRun(true, { slowInterruptionMs: 20 })
    expect(warnings).toEqual([{ processor: expect.stringMatching(/\/llm$/), heldMs: 20 }])
  })

  it('says nothing for a stage that honours ctx.signal, nor for the stages waiting around it', async () => {
    expect(await interruptedRun(false, { slowInterruptionMs: 20 })).toEqual([])
  })

  it('is off with slowInterruptionMs: 0, and refuses a bad threshold', async () => {
    expect(await interruptedRun(true, { slowInterruptionMs: 0 })).toEqual([])
    expect(() => new PipelineTask(pipeline(), { slowInterruptionMs: -1 })).toThrow(TypeError)
  })

  it('warns on the console by default, except in production', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const previous = process.env.NODE_ENV
    try {
      warnSlowInterruption({ processor: 'T/llm', heldMs: 50 })
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]?.[0])).toContain('T/llm')
      process.env.NODE_ENV = 'production'
      warnSlowInterruption({ processor: 'T/llm', heldMs: 50 })
      expect(warn).toHaveBeenCalledTimes(1)
    } finally {
      if (previous === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = previous
      warn.mockRestore()
    }
  })
})
