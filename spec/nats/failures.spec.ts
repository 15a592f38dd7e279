/**
 * Failures of a session with a real nats-server: no worker, busy workers, malformed and out-of-sequence messages,
 * a worker that closes — each a typed error, nothing hangs, nothing is silently skipped.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { FrameEncodeError, Frames, PipelineTask, pipeline, run, type ErrorFrame, type Frame, type ProcessorFn } from '../../lib/index.js'
import {
  GapDetectedError,
  MalformedMessageError,
  NoWorkerError,
  WorkerLostError,
  remote,
  serve,
  type RemoteSessionInfo,
} from '../../lib/nats/index.js'
import { until } from './harness/connections.js'
import { natsUnavailable } from './harness/server.js'
import { natsSessions } from './harness/sessions.js'

const skip = natsUnavailable()

const texts = (frames: readonly Frame[]): string[] => frames.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))
const errorsIn = (frames: readonly Frame[]): ErrorFrame[] => frames.filter((f): f is ErrorFrame => f.kind === 'system' && f.type === 'error')

/** A processor that passes frames on, waiting for `gate` (or a cancel) before each data frame. */
function gated(gate: { open: Promise<void> }): ProcessorFn {
  return async function* gatedEcho(source, ctx) {
    for await (const f of source) {
      if (f.kind === 'data') {
        const cancelled = new Promise<void>((resolve) => ctx.cancelSignal.addEventListener('abort', () => resolve(), { once: true }))
        await Promise.race([gate.open, cancelled])
        if (ctx.cancelSignal.aborted) return
      }
      yield f
    }
  }
}

describe.skipIf(skip !== undefined)('session failures over a real nats-server', () => {
  const nats = natsSessions('fail')
  const serveFresh = nats.serveFresh
  const services = nats.services
  let caller: NatsConnection
  let worker: NatsConnection
  beforeAll(() => {
    caller = nats.caller
    worker = nats.worker
  })

  it('a subject nobody serves fails fast with a NoWorkerError, and the task ends errored', async () => {
    const up: Frame[] = []
    const t0 = performance.now()
    const handle = run(pipeline(remote(caller, 'nobody.home', { openTimeoutMs: 300 })), [Frames.text('hello?')], { onUpstream: (f) => up.push(f) })
    await expect(async () => {
      for await (const _ of handle) void _
    }).rejects.toThrow(/no worker for subject "nobody.home"/)
    expect(performance.now() - t0).toBeLessThan(5000)
    const result = await handle.result
    expect(result.status).toBe('errored')
    expect(result.error?.cause).toBeInstanceOf(NoWorkerError)
    expect((result.error?.cause as NoWorkerError).reason).toBe('no-responders')
  })

  it('cancelling a run while it looks for a worker ends it at once', async () => {
    const controller = new AbortController()
    const handle = run(pipeline(remote(caller, 'nobody.yet', { openTimeoutMs: 30_000 })), [Frames.text('hello?')], { signal: controller.signal })
    setTimeout(() => controller.abort(), 200)
    const t0 = performance.now()
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('cancelled')
    expect(performance.now() - t0).toBeLessThan(3000)
  })

  it('cancelling a run while a worker is slow to accept ends it at once; a late accept gets a close', { timeout: 20_000 }, async () => {
    const closes: Uint8Array[] = []
    const inbox = 'fail.fake.worker'
    const subs = [
      worker.subscribe(inbox, {
        callback: (_err, msg) => {
          closes.push(msg.data)
        },
      }),
      worker.subscribe('fail.slow.accept', {
        callback: (_err, msg) => {
          setTimeout(() => msg.respond(JSON.stringify({ ok: true, worker: inbox, window: 8, workerId: 'slow' })), 4000)
        },
      }),
    ]
    await worker.flush()
    const controller = new AbortController()
    const handle = run(pipeline(remote(caller, 'fail.slow.accept', { openTimeoutMs: 30_000 })), [Frames.text('hello?')], { signal: controller.signal })
    setTimeout(() => controller.abort(), 200)
    const t0 = performance.now()
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('cancelled')
    // without the abortable wait it would take the 4 s the worker needs to accept
    expect(performance.now() - t0).toBeLessThan(3000)
    await until(() => closes.length === 1, 10_000, 'the close for the late accept')
    expect([closes[0]?.[0], closes[0]?.[1]]).toEqual([6, 1]) // a close message, reason: cancelled
    for (const sub of subs) sub.unsubscribe()
  })

  it('when every worker is at maxSessions a new session fails after the bounded wait; it opens again once one ends', async () => {
    let release!: () => void
    const gate = { open: new Promise<void>((resolve) => (release = resolve)) }
    const { subject } = serveFresh(() => gated(gate), { maxSessions: 1 })
    const first = new PipelineTask(pipeline(remote(caller, subject)))
    const firstDone = first.run()
    await first.queueFrame(Frames.text('hold'))
    await until(() => services.at(-1)?.sessions === 1, 5000, 'the first session')

    const t0 = performance.now()
    const second = run(pipeline(remote(caller, subject, { openTimeoutMs: 400 })), [Frames.text('me too')])
    await expect(async () => {
      for await (const _ of second) void _
    }).rejects.toThrow(/no worker for subject/)
    expect((await second.result).error?.cause).toBeInstanceOf(NoWorkerError)
    const waited = performance.now() - t0
    expect(waited).toBeGreaterThanOrEqual(350)
    expect(waited).toBeLessThan(5000)

    release()
    first.stopWhenDone()
    expect((await firstDone).status).toBe('ended')
    const out: Frame[] = []
    for await (const f of run(pipeline(remote(caller, subject, { openTimeoutMs: 3000 })), [Frames.text('now')])) out.push(f)
    expect(texts(out)).toEqual(['now'])
  })

  it('a message that is not a session message is reported (typed) and ignored: the session goes on', async () => {
    let release!: () => void
    const gate = { open: new Promise<void>((resolve) => (release = resolve)) }
    const { subject, errors } = serveFresh(() => gated(gate))
    let info: RemoteSessionInfo | undefined
    const up: Frame[] = []
    const task = new PipelineTask(pipeline(remote(caller, subject, { onSession: (s) => (info = s) })), { onUpstream: (f) => up.push(f) })
    const out: Frame[] = []
    const reader = (async () => {
      for await (const f of task.frames()) out.push(f)
    })()
    const done = task.run()
    await task.queueFrame(Frames.text('one'))
    await until(() => info !== undefined, 5000, 'the session')
    const session = info as RemoteSessionInfo
    caller.publish(session.worker, new TextEncoder().encode('not a session message'))
    caller.publish(session.caller, new Uint8Array([0xff, 1, 2]))
    await caller.flush()
    await until(() => errorsIn(up).length === 2, 5000, 'both reports')
    release()
    await task.queueFrame(Frames.text('two'))
    task.stopWhenDone()
    expect((await done).status).toBe('ended')
    await reader
    expect(texts(out)).toEqual(['one', 'two'])
    for (const e of errorsIn(up)) {
      expect(e.fatal).toBe(false)
      expect(e.cause ?? e.error).toBeDefined()
    }
    // the worker's report travels as an error frame; the caller's own is a MalformedMessageError
    expect(errorsIn(up).some((e) => e.cause instanceof MalformedMessageError)).toBe(true)
    expect(errors.some((e) => e instanceof MalformedMessageError)).toBe(true)
  })

  it('a message out of sequence is a gap: the session fails on both sides with a typed error, never skips', async () => {
    const gate = { open: new Promise<void>(() => {}) }
    const { subject, errors, ended } = serveFresh(() => gated(gate))
    let info: RemoteSessionInfo | undefined
    const handle = run(pipeline(remote(caller, subject, { onSession: (s) => (info = s) })), (async function* () {
      yield Frames.text('stuck')
      await new Promise((resolve) => setTimeout(resolve, 60_000))
    })())
    const reading = (async () => {
      for await (const _ of handle) void _
    })()
    await until(() => info !== undefined, 5000, 'the session')
    // A well-formed heartbeat whose number skips ahead: as if messages had been lost on the way.
    const forged = new Uint8Array(10)
    forged[0] = 4
    new DataView(forged.buffer).setUint32(2, 1000)
    caller.publish((info as RemoteSessionInfo).worker, forged)
    await expect(reading).rejects.toThrow(/gap/)
    const result = await handle.result
    expect(result.status).toBe('errored')
    expect(result.error?.cause).toBeInstanceOf(GapDetectedError)
    await until(() => ended.length === 1, 5000, 'the worker session to end')
    expect(ended[0]?.result.status).toBe('cancelled')
    expect(errors.some((e) => e instanceof GapDetectedError && e.received === 1000)).toBe(true)
  })

  it('a processor factory that throws fails the session with a fatal error named after the remote stage', async () => {
    const { subject, errors, ended } = serveFresh(() => {
      throw new Error('no model loaded')
    })
    const handle = run(pipeline(remote(caller, subject, { name: 'brain' })), [Frames.text('hi')])
    await expect(async () => {
      for await (const _ of handle) void _
    }).rejects.toThrow(/brain: no model loaded/)
    expect((await handle.result).status).toBe('errored')
    expect(errors.map((e) => e.message)).toContain('no model loaded')
    await until(() => ended.length === 1, 5000, 'the session to be reported')
    expect(ended[0]?.result.status).toBe('errored')
  })

  it('a malformed open request gets a refusal and a report; the worker keeps serving', async () => {
    const { subject, errors } = serveFresh(() => async function* (source) {
      yield* source
    })
    await worker.flush()
    const reply = await caller.request(subject, new TextEncoder().encode('{"v":1,"session":'), { timeout: 2000 })
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ ok: false, code: 'rejected' })
    const wrongVersion = await caller.request(subject, new TextEncoder().encode('{"v":99}'), { timeout: 2000 })
    expect(JSON.parse(new TextDecoder().decode(wrongVersion.data))).toMatchObject({ ok: false, code: 'rejected' })
    expect(errors.filter((e) => e instanceof MalformedMessageError)).toHaveLength(2)
    const out: Frame[] = []
    for await (const f of run(pipeline(remote(caller, subject)), [Frames.text('still here')])) out.push(f)
    expect(texts(out)).toEqual(['still here'])
  })

  it('a frame the wire cannot carry (too large, not JSON) is reported as a non-fatal FrameEncodeError; the session goes on', async () => {
    const { subject } = serveFresh(() => async function* (source) {
      yield* source
    })
    const up: Frame[] = []
    const huge = Frames.imageRaw({ image: new Uint8Array(1_200_000), size: [1000, 400], format: 'RGB' })
    const handle = run(pipeline(remote(caller, subject)), [Frames.text('before'), huge, Frames.app('when', { at: new Date(0) }), Frames.text('after')], {
      onUpstream: (f) => up.push(f),
    })
    const out: Frame[] = []
    for await (const f of handle) out.push(f)
    expect((await handle.result).status).toBe('ended')
    expect(texts(out)).toEqual(['before', 'after'])
    const errors = errorsIn(up)
    expect(errors).toHaveLength(2)
    for (const e of errors) {
      expect(e.fatal).toBe(false)
      expect(e.cause).toBeInstanceOf(FrameEncodeError)
    }
    expect(errors[0]?.error).toMatch(/max_payload/)
  })

  it('close() on the worker cancels its sessions: the caller gets a WorkerLostError, fatal by default or non-fatal ending the stage', async () => {
    const gate = { open: new Promise<void>(() => {}) }
    let finalized = 0
    const service = serve(worker, {
      subject: 'fail.closing',
      processor: () =>
        async function* held(source, ctx) {
          try {
            yield* gated(gate)(source, ctx)
          } finally {
            finalized++
          }
        },
    })
    services.push(service)
    const fatal = new PipelineTask(pipeline(remote(caller, 'fail.closing')))
    const fatalDone = fatal.run()
    await fatal.queueFrame(Frames.text('x'))
    const up: Frame[] = []
    const lenient = new PipelineTask(pipeline(remote(caller, 'fail.closing', { fatal: false }), async function* after(source) {
      yield* source
    }), { onUpstream: (f) => up.push(f) })
    const lenientDone = lenient.run()
    await lenient.queueFrame(Frames.text('y'))
    await until(() => service.sessions === 2, 5000, 'both sessions')
    await service.close()
    expect(finalized).toBe(2)
    const a = await fatalDone
    expect(a.status).toBe('errored')
    expect(a.error?.cause).toBeInstanceOf(WorkerLostError)
    expect((a.error?.cause as WorkerLostError).reason).toBe('closed')
    const b = await lenientDone
    expect(b.status).toBe('ended')
    expect(errorsIn(up)).toHaveLength(1)
    expect(errorsIn(up)[0]).toMatchObject({ fatal: false })
    expect(errorsIn(up)[0]?.cause).toBeInstanceOf(WorkerLostError)
  })
})
