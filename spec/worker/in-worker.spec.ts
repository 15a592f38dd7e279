/**
 * Worker-thread stages: the work runs in threads, order is kept, byte buffers are moved, errors are reported upstream
 * naming the stage, bad modules fail the task at once.
 */
import { isMainThread, threadId } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { Frames, PipelineError, pipeline, processorInfo, run, type AppFrame, type ErrorFrame, type Frame } from '../../lib/index.js'
import { inWorker, WorkerError, WorkerModuleError } from '../../lib/worker/index.js'
import { collect, texts, types } from '../helpers/collect.js'
import { execArgv, FIXTURE, fixtureStage, trackThreads } from './helpers.js'

const errors = (frames: readonly Frame[]): ErrorFrame[] => frames.filter((f): f is ErrorFrame => f.type === 'error')

describe('inWorker', () => {
  it('runs the handler in a worker thread, which sees the frame with its identity', async () => {
    const input = [Frames.text('hi'), Frames.audioRaw({ audio: new Uint8Array(6) })]
    const { out, result } = await collect(fixtureStage('whereAmI'), input)
    expect(result.status).toBe('ended')
    const where = out.filter((f): f is AppFrame<'where', { isMainThread: boolean; threadId: number; id: number; name: string; bytes: number }> => f.type === 'where')
    expect(where.map((f) => f.data.isMainThread)).toEqual([false, false])
    expect(isMainThread).toBe(true)
    expect(where.every((f) => f.data.threadId !== threadId)).toBe(true)
    expect(where.map((f) => [f.data.id, f.data.name])).toEqual(input.map((f) => [f.id, f.name]))
    expect(where.map((f) => f.data.bytes)).toEqual([-1, 6])
    // Frames made in the thread get a fresh identity here: unique, and above every id seen before.
    const ids = out.map((f) => f.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(Math.min(...where.map((f) => f.id))).toBeGreaterThan(Math.max(...input.map((f) => f.id)))
    expect(where.map((f) => f.name)).toEqual([expect.stringMatching(/^where#\d+$/), expect.stringMatching(/^where#\d+$/)])
  })

  it('keeps the input order across two threads; control frames keep their place, system frames pass ahead', async () => {
    // Frame a takes longest, so the thread with b, c, d finishes them first.
    const input = [Frames.text('400:a'), Frames.stopInterruption(), Frames.text('1:b'), Frames.sync(), Frames.text('30:c'), Frames.text('1:d')]
    const { out, result } = await collect(fixtureStage('busy', { threads: 2 }), input)
    expect(result.status).toBe('ended')
    expect(types(out)).toEqual(['start', 'stopInterruption', 'text', 'text', 'sync', 'text', 'text', 'end'])
    expect(texts(out)).toEqual(['a', 'b', 'c', 'd'])
  })

  it('moves whole audio buffers to the thread and back (the input is detached), and keeps the identity of a frame returned as received', async () => {
    const audio = new Uint8Array([1, 2, 3, 4])
    const frame = Frames.audioRaw({ audio })
    const { out } = await collect(fixtureStage('doubleAudio'), [frame])
    const back = out.find((f) => f.type === 'audioRaw')
    expect(audio.buffer.byteLength).toBe(0) // moved, not copied
    expect(back?.id).toBe(frame.id)
    expect(back?.name).toBe(frame.name)
    expect(back?.kind === 'data' && back.type === 'audioRaw' ? [...back.audio] : []).toEqual([2, 4, 6, 8])
  })

  it('copies instead with transfer: false, and copies a view into a larger buffer in any case', async () => {
    const kept = new Uint8Array([1, 2, 3, 4])
    const big = new Uint8Array(64).fill(5)
    const view = big.subarray(8, 12)
    const { out } = await collect(fixtureStage('doubleAudio', { transfer: false }), [Frames.audioRaw({ audio: kept })])
    expect([...kept]).toEqual([1, 2, 3, 4])
    const doubled = out.find((f) => f.type === 'audioRaw')
    expect(doubled?.kind === 'data' && doubled.type === 'audioRaw' ? [...doubled.audio] : []).toEqual([2, 4, 6, 8])

    const moved = await collect(fixtureStage('doubleAudio'), [Frames.audioRaw({ audio: view })])
    expect(big.byteLength).toBe(64) // the larger buffer was neither detached nor changed
    expect([...view]).toEqual([5, 5, 5, 5])
    const fromView = moved.out.find((f) => f.type === 'audioRaw')
    expect(fromView?.kind === 'data' && fromView.type === 'audioRaw' ? [...fromView.audio] : []).toEqual([10, 10, 10, 10])
  })

  it('reports an exception in the handler upstream as an error frame naming the stage, drops that frame and goes on', async () => {
    const bad = Frames.text('bad')
    const { out, up, result } = await collect(pipeline(fixtureStage('fragile')), [Frames.text('ok1'), bad, Frames.text('ok2')])
    expect(result.status).toBe('ended')
    expect(texts(out)).toEqual(['ok1', 'ok2'])
    const [err, ...more] = errors(up)
    expect(more).toEqual([])
    expect(err?.fatal).toBe(false)
    expect(err?.error).toBe(`bad input (while handling ${bad.name})`)
    expect((err?.cause as WorkerError).frame).toEqual({ id: bad.id, name: bad.name })
    expect(err?.processor).toMatch(/inWorker\(fragile\)$/)
    expect(err?.cause).toBeInstanceOf(WorkerError)
    expect((err?.cause as WorkerError).remoteName).toBe('RangeError')
    expect((err?.cause as WorkerError).stack).toContain('in a worker thread')
  })

  it('a fatal error thrown in the thread ends the task as errored', async () => {
    const fatal = Frames.text('fatal')
    const handle = run(pipeline(fixtureStage('fragile')), [fatal, Frames.text('after')])
    const out: Frame[] = []
    const failure = await (async () => {
      for await (const f of handle) out.push(f)
    })().then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(failure).toBeInstanceOf(PipelineError)
    const frame = (failure as PipelineError).frame
    expect(frame.fatal).toBe(true)
    expect(frame.error).toBe(`cannot go on (while handling ${fatal.name})`)
    expect(frame.processor).toMatch(/inWorker\(fragile\)$/)
    expect((frame.cause as WorkerError).remoteName).toBe('FatalError')
    expect((await handle.result).status).toBe('errored')
    expect(texts(out)).not.toContain('fatal')
  })

  it('refuses what the handler returns when it is not a frame, passes nothing, several frames or the frame itself', async () => {
    const { out, up, result } = await collect(fixtureStage('odd'), ['junk', 'invalid', 'drop', 'two', 'kept'].map((t) => Frames.text(t)))
    expect(result.status).toBe('ended')
    expect(texts(out)).toEqual(['two-a', 'two-b', 'kept'])
    const errs = errors(up)
    expect(errs.map((e) => e.error)).toEqual([
      expect.stringContaining('the handler returned 42, not a frame'),
      expect.stringMatching(/the handler returned a bad frame: .*text/),
    ])
    expect(errs.every((e) => e.processor?.endsWith('inWorker(odd)') === true)).toBe(true)
  })

  it('a thread that dies in the middle of a batch fails only its frame; the frames after it go to a fresh thread', async () => {
    // The three frames are there at once: they go to the thread as one batch.
    const exit = Frames.text('exit')
    const { out, up, result } = await collect(fixtureStage('exits', { maxBatch: 8 }), [Frames.text('a'), exit, Frames.text('b'), Frames.text('c')])
    expect(result.status).toBe('ended')
    expect(texts(out)).toEqual(['a', 'b', 'c'])
    const errs = errors(up)
    expect(errs.map((e) => e.error)).toEqual([`a worker thread exited with code: 3 (while handling ${exit.name})`])
    expect((errs[0]?.cause as WorkerError).frame?.id).toBe(exit.id)
  })

  it('an error a thread throws outside any frame is reported naming the stage; a fresh thread takes the next frames', async () => {
    const threads = trackThreads()
    const up: Frame[] = []
    async function* input(): AsyncGenerator<Frame> {
      yield Frames.text('later')
      // Bounded wait for the thread's death to be reported, then one more frame.
      for (let i = 0; i < 2000 && errors(up).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
      yield Frames.text('after')
    }
    const handle = run(fixtureStage('throwsLater'), input(), { onUpstream: (f) => up.push(f) })
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    expect((await handle.result).status).toBe('ended')
    expect(texts(out)).toEqual(['later', 'after'])
    const errs = errors(up)
    expect(errs.map((e) => e.error)).toEqual(['a worker thread failed: thrown from a timer'])
    expect(errs[0]?.processor).toMatch(/inWorker\(throwsLater\)$/)
    expect(errs[0]?.fatal).toBe(false)
    expect(threads.started()).toBe(2)
  })

  it('a module or export that cannot be loaded fails the task before any frame, with one fatal error naming the stage', async () => {
    const handle = collect(fixtureStage('notAFunction'), [Frames.text('a')])
    const failure = await handle.then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(failure).toBeInstanceOf(Error)
    const frame = (failure as { frame?: ErrorFrame }).frame
    expect(frame?.fatal).toBe(true)
    expect(frame?.processor).toMatch(/inWorker\(notAFunction\)$/)
    expect(frame?.cause).toBeInstanceOf(WorkerModuleError)
    expect(frame?.error).toContain('export "notAFunction"')
    expect(frame?.error).toContain('is 42, not a function')
  })

  it('takes a data: URL module, and names the stage after the export', async () => {
    const source = 'export const reverse = (frame) => frame.type === "text" ? { ...frame, text: [...frame.text].reverse().join("") } : frame'
    const stage = inWorker(`data:text/javascript,${encodeURIComponent(source)}`, 'reverse', { threads: 1, execArgv })
    expect(processorInfo(stage)?.name).toBe('inWorker(reverse)')
    expect(processorInfo(inWorker(FIXTURE, undefined, { execArgv }))?.name).toBe('inWorker(stages)')
    const input = Frames.text('abc')
    const { out, result } = await collect(pipeline(stage), [input])
    expect(result.status).toBe('ended')
    expect(texts(out)).toEqual(['cba'])
    // A copy made in the thread is a new frame here, even though it carried the input's id.
    expect(out.find((f) => f.type === 'text')?.id).not.toBe(input.id)
  })

  it('refuses bad arguments with a TypeError at once', () => {
    expect(() => inWorker('./stages.ts', 'upper')).toThrow(/file: URL .* or an absolute path/)
    expect(() => inWorker(new URL('./missing.js', FIXTURE), 'upper')).toThrow(/no module at/)
    expect(() => inWorker(new URL('https://example.com/x.js'), 'upper')).toThrow(/file: or data: URL/)
    expect(() => inWorker(FIXTURE, '')).toThrow(/exportName/)
    expect(() => inWorker(FIXTURE, 'upper', { threads: 0 })).toThrow(/threads must be an integer >= 1/)
    expect(() => inWorker(FIXTURE, 'upper', { maxInFlight: 1.5 })).toThrow(/maxInFlight/)
    expect(() => inWorker(FIXTURE, 'upper', { maxBatch: 0 })).toThrow(/maxBatch must be an integer >= 1/)
    expect(() => inWorker(FIXTURE, 'upper', { transfer: 'yes' as never })).toThrow(/transfer must be a boolean/)
    expect(() => inWorker(FIXTURE, 'upper', { execArgv, match: 3 as never })).toThrow(/match must be a function/)
  })
})
