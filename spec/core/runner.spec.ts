import { describe, expect, it } from 'vitest'
import { Frames, PipelineRunner, PipelineTask, pipeline, type Frame, type ProcessorFn } from '../../lib/index.js'
import { deferred, sleep } from '../helpers/collect.js'

function waitingProcessor(started: { resolve: () => void }, finallies: string[]): ProcessorFn {
  return async function* waiting(source, ctx) {
    try {
      for await (const f of source) {
        if (f.kind === 'data') {
          started.resolve()
          await sleep(60_000, ctx.signal)
        }
        yield f
      }
    } finally {
      finallies.push('waiting')
    }
  }
}

describe('PipelineRunner', () => {
  it('runs a task to its end and resolves with its result', async () => {
    const runner = new PipelineRunner({ handleSignals: false })
    const task = new PipelineTask(pipeline())
    await task.queueFrame(Frames.text('x'))
    task.stopWhenDone()
    expect((await runner.run(task)).status).toBe('ended')
    expect(runner.running).toEqual([])
  })

  it('SIGINT cancels every running task and removes its handlers so the process can exit', async () => {
    const sigintBefore = process.listenerCount('SIGINT')
    const sigtermBefore = process.listenerCount('SIGTERM')
    const runner = new PipelineRunner()
    const finallies: string[] = []
    const s1 = deferred()
    const s2 = deferred()
    const t1 = new PipelineTask(waitingProcessor(s1, finallies))
    const t2 = new PipelineTask(waitingProcessor(s2, finallies))
    await t1.queueFrame(Frames.text('a'))
    await t2.queueFrame(Frames.text('b'))
    const r1 = runner.run(t1)
    const r2 = runner.run(t2)
    await Promise.all([s1.promise, s2.promise])
    expect(process.listenerCount('SIGINT')).toBe(sigintBefore + 1)
    expect(runner.running).toHaveLength(2)
    process.emit('SIGINT')
    expect(process.listenerCount('SIGINT')).toBe(sigintBefore)
    const results = await Promise.all([r1, r2])
    expect(results.map((r) => r.status)).toEqual(['cancelled', 'cancelled'])
    expect(finallies).toEqual(['waiting', 'waiting'])
    expect(process.listenerCount('SIGTERM')).toBe(sigtermBefore)
  })

  it('SIGTERM works the same way; handlers are gone once the last task ends', async () => {
    const before = process.listenerCount('SIGTERM')
    const runner = new PipelineRunner()
    const started = deferred()
    const task = new PipelineTask(waitingProcessor(started, []))
    await task.queueFrame(Frames.text('a'))
    const result = runner.run(task)
    await started.promise
    process.emit('SIGTERM')
    expect((await result).status).toBe('cancelled')
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })

  it('stopWhenDone and cancel reach every running task', async () => {
    const runner = new PipelineRunner({ handleSignals: false })
    const a = new PipelineTask(pipeline())
    const b = new PipelineTask(pipeline())
    const ra = runner.run(a)
    const rb = runner.run(b)
    runner.stopWhenDone()
    expect((await ra).status).toBe('ended')
    expect((await rb).status).toBe('ended')
    const c = new PipelineTask(pipeline())
    const rc = runner.run(c)
    await runner.cancel()
    expect((await rc).status).toBe('cancelled')
  })

  it('a task whose processor pushes end upstream ends by itself', async () => {
    const p: ProcessorFn = async function* (source, ctx) {
      for await (const f of source) {
        yield f
        if (f.kind === 'data') ctx.pushUpstream(Frames.end())
      }
    }
    const task = new PipelineTask(p)
    const out = task.frames()
    await task.queueFrame(Frames.text('only'))
    const got: Frame[] = []
    const [result] = await Promise.all([
      new PipelineRunner({ handleSignals: false }).run(task),
      (async () => {
        for await (const f of out) got.push(f)
      })(),
    ])
    expect(result.status).toBe('ended')
    expect(got.map((f) => f.type)).toEqual(['start', 'text', 'end'])
  })
})
