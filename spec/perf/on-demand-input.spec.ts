/**
 * `run()` over a synchronous input (an array, a generator) reads it on demand: a frame leaves the input only when the
 * first stage asks for one (no feeder copying it into the input queue ahead of the pipeline). The outcomes are those
 * of the fed path: `end` in or after the input, a value that is not a frame, an input that throws, cancel and break.
 */
import { describe, expect, it } from 'vitest'
import { Frames, PipelineError, map, pipeline, run, type Frame, type Processor } from '../../lib/index.js'
import { texts, types } from '../helpers/collect.js'

/** A counted synchronous input: `pulled` frames were read from it, `closed` once its `finally` ran. */
function counted(n: number, extra: (i: number) => Frame | undefined = () => undefined) {
  const state = { pulled: 0, closed: false }
  function* gen(): Generator<Frame> {
    try {
      for (let i = 0; i < n; i++) {
        state.pulled++
        yield extra(i) ?? Frames.text(String(i))
      }
    } finally {
      state.closed = true
    }
  }
  return { state, input: gen() }
}

const generatorStage: Processor = async function* passOn(source) {
  for await (const f of source) yield f
}

async function failureOf(frames: AsyncIterable<Frame>): Promise<unknown> {
  try {
    for await (const _ of frames) void _
  } catch (err) {
    return err
  }
  return undefined
}

describe('run() over a synchronous input', () => {
  for (const [label, processor] of [
    ['a fused map', () => pipeline(map((f: Frame) => f))],
    ['a generator stage', () => pipeline(generatorStage)],
  ] as const) {
    it(`reads nothing ahead of the consumer (${label})`, async () => {
      const { state, input } = counted(1000)
      const it = run(processor(), input)[Symbol.asyncIterator]()
      let read = 0
      for (let i = 0; i < 200; i++) {
        const r = await it.next()
        if (r.done !== true && r.value.type === 'text') read++
        // A fed input would be up to the input queue's capacity (64) ahead.
        expect(state.pulled - read).toBeLessThanOrEqual(1)
      }
      await it.return?.()
      expect(state.closed).toBe(true)
    })
  }

  it('every frame arrives once and in order, with end last', async () => {
    const { state, input } = counted(5000)
    const out: Frame[] = []
    for await (const f of run(pipeline(map((f: Frame) => f)), input)) out.push(f)
    expect(types(out).at(0)).toBe('start')
    expect(types(out).at(-1)).toBe('end')
    expect(texts(out)).toEqual(Array.from({ length: 5000 }, (_, i) => String(i)))
    expect(state.closed).toBe(true)
  })

  it('an interruption goes ahead of the input not read yet, which is kept', async () => {
    const { state, input } = counted(50)
    const handle = run(pipeline(generatorStage), input, { allowInterruptions: true })
    const it = handle[Symbol.asyncIterator]()
    const out: Frame[] = []
    while (texts(out).length < 10) {
      const r = await it.next()
      if (r.done !== true) out.push(r.value)
    }
    const pulledAtInterruption = state.pulled
    expect(handle.interrupt()).toBe(true)
    for (let r = await it.next(); r.done !== true; r = await it.next()) out.push(r.value)
    const at = types(out).indexOf('startInterruption')
    expect(at).toBeGreaterThan(0)
    // Frames read from the input after the interruption are delivered, in order, after it.
    const after = texts(out.slice(at))
    expect(after.at(-1)).toBe('49')
    expect(after.length).toBeGreaterThanOrEqual(50 - pulledAtInterruption)
    expect(texts(out)).toEqual([...new Set(texts(out))])
    expect((await handle.result).status).toBe('ended')
  })

  it('an end in the input ends the run; nothing after it is read and the input is closed', async () => {
    const { state, input } = counted(100, (i) => (i === 5 ? Frames.end() : undefined))
    const out: Frame[] = []
    const handle = run(pipeline(map((f: Frame) => f)), input)
    for await (const f of handle) out.push(f)
    expect(texts(out)).toEqual(['0', '1', '2', '3', '4'])
    expect(types(out).at(-1)).toBe('end')
    expect(state.pulled).toBe(6)
    expect(state.closed).toBe(true)
    expect((await handle.result).status).toBe('ended')
  })

  it('a cancel frame in the input cancels the run; nothing after it is read', async () => {
    const { state, input } = counted(100, (i) => (i === 3 ? Frames.cancel() : undefined))
    const handle = run(pipeline(map((f: Frame) => f)), input)
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('cancelled')
    expect(state.pulled).toBe(4)
    expect(state.closed).toBe(true)
  })

  it('a value that is not a frame ends the run errored naming the input, and closes the input', async () => {
    const { state, input } = counted(100, (i) => (i === 2 ? ('oops' as unknown as Frame) : undefined))
    const handle = run(pipeline(map((f: Frame) => f)), input)
    const err = await failureOf(handle)
    expect(err).toBeInstanceOf(PipelineError)
    expect((err as PipelineError).frame).toMatchObject({ processor: 'input', fatal: true })
    expect((err as PipelineError).message).toMatch(/needs a frame/)
    expect(state.pulled).toBe(3)
    expect(state.closed).toBe(true)
    expect((await handle.result).status).toBe('errored')
  })

  it('an input whose next() throws ends the run errored naming the input', async () => {
    let calls = 0
    const input: Iterable<Frame> = {
      [Symbol.iterator]: () => ({
        next: () => {
          if (++calls === 3) throw new Error('mic unplugged')
          return { done: false, value: Frames.text(String(calls)) }
        },
      }),
    }
    const handle = run(pipeline(map((f: Frame) => f)), input)
    const err = await failureOf(handle)
    expect((err as PipelineError).frame).toMatchObject({ processor: 'input', error: 'mic unplugged', fatal: true })
    expect(calls).toBe(3)
    expect((await handle.result).status).toBe('errored')
  })

  it('a break reads nothing more and closes an endless input', async () => {
    const { state, input } = counted(Number.MAX_SAFE_INTEGER)
    const handle = run(pipeline(map((f: Frame) => f)), input)
    let n = 0
    let atBreak = 0
    for await (const f of handle) {
      if (f.type === 'text' && ++n === 100) {
        atBreak = state.pulled
        break
      }
    }
    expect((await handle.result).status).toBe('cancelled')
    expect(state.pulled).toBe(atBreak)
    expect(state.closed).toBe(true)
  })

  it('works the same when observers make the task drive its output', async () => {
    const { state, input } = counted(300)
    const out: Frame[] = []
    for await (const f of run(pipeline(map((f: Frame) => f)), input, { observe: () => {} })) out.push(f)
    expect(texts(out)).toHaveLength(300)
    expect(types(out).at(-1)).toBe('end')
    expect(state.closed).toBe(true)
  })
})
