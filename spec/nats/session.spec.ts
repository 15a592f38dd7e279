/**
 * The session semantics across the wire, with a real nats-server: a worker served on its own connection (the same
 * code path as a worker process; the process specs kill real ones), callers using remote() inside local pipelines.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { Frames, PipelineTask, pipeline, run, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { remote } from '../../lib/nats/index.js'
import { until } from './harness/connections.js'
import { natsUnavailable } from './harness/server.js'
import { natsSessions } from './harness/sessions.js'

const skip = natsUnavailable()

const texts = (frames: readonly Frame[]): string[] => frames.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))
const echo: Processor = async function* echo(source) {
  yield* source
}

describe.skipIf(skip !== undefined)('remote() and serve() over a real nats-server', () => {
  const nats = natsSessions('spec')
  const serveFresh = nats.serveFresh
  let caller: NatsConnection
  beforeAll(() => {
    caller = nats.caller
  })

  it('runs a pipeline stage on the worker: start first, output in order, end last, every stage finalized', async () => {
    const { subject, ended } = serveFresh(() =>
      pipeline(async function* upper(source) {
        for await (const f of source) yield f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f
      }),
    )
    const out: Frame[] = []
    const handle = run(pipeline(remote(caller, subject)), [Frames.text('a'), Frames.text('b'), Frames.app('note', { n: 1 })])
    for await (const f of handle) out.push(f)
    expect((await handle.result).status).toBe('ended')
    expect(out.map((f) => f.type)).toEqual(['start', 'text', 'text', 'note', 'end'])
    expect(texts(out)).toEqual(['A', 'B'])
    expect(out[3]).toMatchObject({ kind: 'app', type: 'note', data: { n: 1 } })
    await until(() => ended.length === 1)
    expect(ended[0]?.result.status).toBe('ended')
  })

  it('carries 10^5 frames each way with none lost, duplicated or reordered (audio bytes intact)', async () => {
    const { subject } = serveFresh(() => echo)
    const n = 100_000
    async function* input(): AsyncGenerator<Frame> {
      for (let i = 0; i < n; i++) {
        if (i % 1000 === 0) yield Frames.audioRaw({ audio: new Uint8Array([i & 255, (i >> 8) & 255, 7, 9]) })
        yield Frames.text(String(i))
      }
    }
    let next = 0
    let audio = 0
    let bad: string | undefined
    const handle = run(pipeline(remote(caller, subject)), input())
    for await (const f of handle) {
      if (f.kind === 'data' && f.type === 'text') {
        if (f.text !== String(next)) bad ??= `got ${f.text} where ${next} was expected`
        next++
      } else if (f.kind === 'data' && f.type === 'audioRaw') {
        const i = audio++ * 1000
        if (f.audio[0] !== (i & 255) || f.audio[1] !== ((i >> 8) & 255) || f.audio[3] !== 9) bad ??= `audio #${audio} damaged`
      }
    }
    expect(bad).toBeUndefined()
    expect(next).toBe(n)
    expect(audio).toBe(100)
    expect((await handle.result).status).toBe('ended')
  }, 60_000)

  it('names errors of the worker stages after the remote stage; fatal ones end the caller task errored', async () => {
    const { subject } = serveFresh(() =>
      pipeline(
        async function* fragile(source) {
          for await (const f of source) {
            if (f.kind === 'data' && f.type === 'text' && f.text === 'boom') throw new Error('it broke')
            if (f.kind === 'data' && f.type === 'text' && f.text === 'fatal') throw Object.assign(new Error('cannot go on'), { fatal: true })
            yield f
          }
        },
      ),
    )
    const up: Frame[] = []
    const handle = run(pipeline(remote(caller, subject, { name: 'brain' })), [Frames.text('boom'), Frames.text('after')], { onUpstream: (f) => up.push(f) })
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    expect(texts(out)).toEqual(['after'])
    const errors = up.filter((f) => f.type === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ error: 'it broke', fatal: false })
    expect((errors[0] as { processor?: string }).processor).toMatch(/^PipelineTask#\d+\/brain\/fragile$/)

    const fatal = run(pipeline(remote(caller, subject, { name: 'brain' })), [Frames.text('fatal'), Frames.text('never')])
    await expect(async () => {
      for await (const _ of fatal) void _
    }).rejects.toThrow(/brain\/fragile: cannot go on/)
    expect((await fatal.result).status).toBe('errored')
  })

  it('relays upstream frames both ways: worker pushes reach earlier local stages; later local pushes are observed on the worker', async () => {
    const observed: string[] = []
    const { subject } = serveFresh(() =>
      pipeline(async function* speaker(source, ctx) {
        ctx.onUpstream((f, next) => {
          observed.push(f.type)
          next(f)
        })
        for await (const f of source) {
          if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.app('heard', { text: f.text }))
          yield f
        }
      }),
    )
    const seenBefore: string[] = []
    const before: ProcessorFn = async function* before(source, ctx) {
      ctx.onUpstream((f, next) => {
        seenBefore.push(f.type)
        next(f)
      })
      yield* source
    }
    const after: ProcessorFn = async function* after(source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text') ctx.pushUpstream(Frames.app('ack', { text: f.text }))
        yield f
      }
    }
    const up: Frame[] = []
    const handle = run(pipeline(before, remote(caller, subject), after), [Frames.text('x'), Frames.text('y')], { onUpstream: (f) => up.push(f) })
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('ended')
    expect(up.map((f) => f.type).sort()).toEqual(['ack', 'ack', 'heard', 'heard'])
    expect(seenBefore.sort()).toEqual(['ack', 'ack', 'heard', 'heard'])
    await until(() => observed.length === 2, 5000, 'the worker to observe the acks')
    expect(observed).toEqual(['ack', 'ack'])
  })

  it('cancel reaches the worker: its ctx.signal aborts and its finally runs', async () => {
    let aborted = false
    let finalized = false
    let started!: () => void
    const running = new Promise<void>((resolve) => (started = resolve))
    const { subject, ended } = serveFresh(() =>
      pipeline(async function* slow(source, ctx) {
        try {
          for await (const f of source) {
            if (f.kind === 'data') {
              started()
              await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))
              aborted = ctx.signal.aborted
            }
            yield f
          }
        } finally {
          finalized = true
        }
      }),
    )
    const task = new PipelineTask(pipeline(remote(caller, subject)))
    const done = task.run()
    await task.queueFrame(Frames.text('work'))
    await running
    await task.cancel()
    expect((await done).status).toBe('cancelled')
    await until(() => ended.length === 1, 5000, 'the worker session to end')
    expect(aborted).toBe(true)
    expect(finalized).toBe(true)
    expect(ended[0]?.result.status).toBe('cancelled')
  })

  // The interruption comes from the reader, in the same run of microtasks as the hand-over of the next word: a word the
  // worker produced before it saw the interruption may already be on its way out of the caller's stage. Each word
  // carries the epoch it answers (stamped by the worker when its pipeline produced it, mapped to the caller's run), so
  // the stage drops it wherever it is; before, such a word reached the sink after startInterruption in ~1 run of 4.
  it('an interruption aborts the worker signal, and startInterruption comes back ahead of stale output', async () => {
    let interrupted = 0
    const { subject } = serveFresh(() =>
      pipeline(async function* talker(source, ctx) {
        for await (const f of source) {
          if (f.kind === 'data' && f.type === 'text' && f.text === 'talk') {
            // stream words until interrupted
            const signal = ctx.signal
            for (let i = 0; i < 1000 && !signal.aborted; i++) {
              yield Frames.text(`word${i}`)
              await new Promise((resolve) => setTimeout(resolve, 2))
            }
            if (signal.aborted) interrupted++
            continue
          }
          yield f
        }
      }),
    )
    const task = new PipelineTask(pipeline(remote(caller, subject)), { allowInterruptions: true })
    const out: Frame[] = []
    let sawWords!: () => void
    const words = new Promise<void>((resolve) => (sawWords = resolve))
    const reader = (async () => {
      for await (const f of task.frames()) {
        out.push(f)
        if (texts(out).length === 5) sawWords()
      }
    })()
    const done = task.run()
    await task.queueFrame(Frames.text('talk'))
    await words
    task.interrupt()
    await task.queueFrame(Frames.text('fresh'))
    task.stopWhenDone()
    expect((await done).status).toBe('ended')
    await reader
    const types = out.map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))
    const at = types.indexOf('startInterruption')
    expect(at).toBeGreaterThan(0)
    expect(types.filter((t) => t === 'startInterruption')).toHaveLength(1)
    // nothing of the interrupted answer after the startInterruption: only the fresh input, then end
    expect(types.slice(at + 1)).toEqual(['fresh', 'end'])
    expect(interrupted).toBe(1)
  })

  it('flow control: a slow caller stops the worker, a slow worker stops the caller input (bounded by the windows)', async () => {
    let produced = 0
    const { subject } = serveFresh(
      () =>
        async function* firehose(source) {
          for await (const f of source) {
            if (f.kind === 'data' && f.type === 'text' && f.text === 'go') {
              for (let i = 0; i < 100_000; i++) {
                produced++
                yield Frames.text(String(i))
              }
            }
            yield f
          }
        },
      { window: 16 },
    )
    const task = new PipelineTask(pipeline(remote(caller, subject, { window: 16 })), { outputCapacity: 4 })
    const out = task.frames()[Symbol.asyncIterator]()
    const done = task.run()
    await task.queueFrame(Frames.text('go'))
    await out.next() // start
    await out.next() // first word
    await new Promise((resolve) => setTimeout(resolve, 300))
    const first = produced
    await new Promise((resolve) => setTimeout(resolve, 300))
    // The caller reads nothing: the worker stops after the windows and queues fill (remote window 16, task queues).
    expect(produced).toBe(first)
    expect(produced).toBeLessThan(400)
    await task.cancel()
    await done

    let consumed = 0
    const slow = serveFresh(
      () =>
        async function* slowpoke(source) {
          for await (const f of source) {
            consumed++
            await new Promise((resolve) => setTimeout(resolve, 1000))
            yield f
          }
        },
      { window: 8 },
    )
    let sent = 0
    async function* input(): AsyncGenerator<Frame> {
      for (let i = 0; i < 10_000; i++) {
        sent++
        yield Frames.text(String(i))
      }
    }
    const handle = run(pipeline(remote(caller, slow.subject, { window: 8 })), input(), { inputCapacity: 4 })
    const it2 = handle[Symbol.asyncIterator]()
    const reading = it2.next()
    await new Promise((resolve) => setTimeout(resolve, 600))
    const sentThen = sent
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(sent).toBe(sentThen)
    expect(sent).toBeLessThan(200)
    expect(consumed).toBeLessThan(5)
    await reading
    await it2.return?.()
  })
})
