/**
 * Consumers that guard the last stage themselves (the pumps of `parallel`, the puller of `run()`) await the processor
 * raw: rule 6 still holds there. An exception in that stage is an upstream error naming it, only it restarts (its
 * stateful neighbour keeps its state), a value that is not a frame is reported naming it, and the run goes on.
 */
import { describe, expect, it } from 'vitest'
import { Frames, parallel, pipeline, run, type Frame, type Processor } from '../../lib/index.js'
import { textFrames, texts } from '../helpers/collect.js'

/** Counts the text frames it passes, in a closure that a restart would reset: proves it is never restarted. */
function counter(): Processor {
  return async function* counter(source) {
    let n = 0
    for await (const f of source) yield f.type === 'text' ? Frames.text(`${f.text}:${n++}`) : f
  }
}

/** Throws on text '1:1', yields a non-frame for '2:2', passes the rest. */
const picky: Processor = async function* picky(source) {
  for await (const f of source) {
    if (f.type === 'text' && f.text === '1:1') throw new Error('picky cannot take 1')
    if (f.type === 'text' && f.text === '2:2') yield 7 as unknown as Frame
    else yield f
  }
}

function errorsOf(frames: readonly Frame[]): { processor: string | undefined; error: string }[] {
  return frames.flatMap((f) => (f.type === 'error' ? [{ processor: f.processor, error: f.error }] : []))
}

describe('the last stage guarded by its consumer', () => {
  it('run(): an exception restarts only that stage, a non-frame is reported, both name it', async () => {
    const upstream: Frame[] = []
    const handle = run(pipeline(counter(), picky), textFrames(5), { onUpstream: (f) => upstream.push(f) })
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    // The counter was not restarted: its numbering goes on after picky's failure.
    expect(texts(out)).toEqual(['0:0', '3:3', '4:4'])
    const errors = errorsOf(upstream)
    expect(errors).toHaveLength(2)
    expect(errors[0]?.processor).toMatch(/picky$/)
    expect(errors[0]?.error).toBe('picky cannot take 1')
    expect(errors[1]?.processor).toMatch(/picky$/)
    expect(errors[1]?.error).toMatch(/not a frame/)
    expect((await handle.result).status).toBe('ended')
  })

  it('parallel(): the same in the last stage of a branch, and the other branch is untouched', async () => {
    const upstream: Frame[] = []
    const element = parallel([counter(), picky], [counter()])
    const handle = run(element, textFrames(5), { onUpstream: (f) => upstream.push(f) })
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    const got = texts(out)
    expect(got.filter((t) => ['1:1', '2:2'].includes(t))).toEqual(['1:1', '2:2']) // from the clean branch only
    expect(got.filter((t) => t === '0:0' || t === '3:3' || t === '4:4')).toHaveLength(6)
    const errors = errorsOf(upstream)
    expect(errors.map((e) => e.error)).toEqual(['picky cannot take 1', expect.stringMatching(/not a frame/)])
    for (const e of errors) expect(e.processor).toMatch(/picky$/)
    expect((await handle.result).status).toBe('ended')
  })

  it('parallel(): a fatal error in the last stage of a branch ends the run errored, naming it', async () => {
    const fatal: Processor = async function* fatal(source) {
      for await (const f of source) {
        if (f.type === 'text') throw Object.assign(new Error('broken'), { fatal: true })
        yield f
      }
    }
    const handle = run(parallel([counter(), fatal], [counter()]), textFrames(3))
    await expect(
      (async () => {
        for await (const _ of handle);
      })(),
    ).rejects.toThrow(/broken/)
    const result = await handle.result
    expect(result.status).toBe('errored')
    expect(result.error?.processor).toMatch(/fatal$/)
  })
})
