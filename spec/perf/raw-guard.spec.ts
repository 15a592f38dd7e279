/**
 * Consumers that guard the last stage themselves (the pumps of `parallel`, the puller of `run()`) await the processor
 * raw: rule 6 still holds there. An exception in that stage is an upstream error naming it, only it restarts (its
 * stateful neighbour keeps its state), a value that is not a frame is reported naming it, and the run goes on.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Frames, PipelineError, detachedContext, parallel, pipeline, run, type Frame, type Processor } from '../../lib/index.js'
import { Stage } from '../../lib/core/stage.js'
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

describe('a pipeline iterated directly: its iteration guards the last stage', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('an exception restarts only that stage, a non-frame is reported, both name it; the raw path is taken', async () => {
    const guarded = vi.spyOn(Stage.prototype, 'next')
    const errors: Frame[] = []
    const ctx = detachedContext('direct', { onError: (e) => errors.push(e) })
    const out: Frame[] = []
    for await (const f of pipeline(counter(), picky)(textFrames(5), ctx)) out.push(f)
    expect(texts(out)).toEqual(['0:0', '3:3', '4:4'])
    expect(errorsOf(errors)).toEqual([
      { processor: expect.stringMatching(/picky$/), error: 'picky cannot take 1' },
      { processor: expect.stringMatching(/picky$/), error: expect.stringMatching(/not a frame/) },
    ])
    // The iteration awaited the last stage's processor raw: no guarded next() of a stage was needed.
    expect(guarded).not.toHaveBeenCalled()
  })

  it('without an error handler the exception rejects the iteration with a PipelineError naming the stage', async () => {
    const out: Frame[] = []
    const iterate = async (): Promise<void> => {
      for await (const f of pipeline(counter(), picky)(textFrames(5))) out.push(f)
    }
    const failure = await iterate().then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(failure).toBeInstanceOf(PipelineError)
    expect((failure as PipelineError).frame.processor).toMatch(/picky$/)
    expect(texts(out)).toEqual(['0:0'])
  })

  it('a processor that throws in the middle restarts alone: every stage after it keeps its state', async () => {
    const middle: Processor = async function* middle(source) {
      for await (const f of source) {
        if (f.type === 'text' && f.text === '1:1') throw new Error('middle cannot take 1')
        yield f
      }
    }
    const chain = (): Processor => pipeline(counter(), middle, counter(), counter())
    const expected = ['0:0:0:0', '2:2:1:1', '3:3:2:2', '4:4:3:3']
    const errors: Frame[] = []
    const direct: Frame[] = []
    for await (const f of chain()(textFrames(5), detachedContext('direct', { onError: (e) => errors.push(e) }))) direct.push(f)
    expect(texts(direct)).toEqual(expected)
    const upstream: Frame[] = []
    const handle = run(chain(), textFrames(5), { onUpstream: (f) => upstream.push(f) })
    const ran: Frame[] = []
    for await (const f of handle) ran.push(f)
    expect(texts(ran)).toEqual(expected)
    for (const reported of [errors, upstream]) {
      expect(errorsOf(reported)).toEqual([{ processor: expect.stringMatching(/middle$/), error: 'middle cannot take 1' }])
    }
  })
})
