/**
 * Load-aware placement with a real nats-server: workers publish their load, callers open each session on the least
 * busy one; full, draining and silent workers are skipped, refusals move on to the next, the queue group takes over
 * when no worker reports, and malformed reports change nothing.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { Frames, PipelineTask, pipeline, run, type ProcessorFn, type TaskResult } from '../../lib/index.js'
import { MalformedMessageError, remote, type NatsService, type RemoteSessionInfo } from '../../lib/nats/index.js'
import { CloseReason, MessageType, encodeEnvelope } from '../../lib/nats/envelope.js'
import { decodeOpenRequest } from '../../lib/nats/handshake.js'
import { LOAD_REPORT_VERSION, decodeLoadReport, directSubject, encodeLoadReport, loadSubject, type LoadReport } from '../../lib/nats/load-report.js'
import { workersOf } from '../../lib/nats/placement.js'
import { until } from './harness/connections.js'
import { natsUnavailable } from './harness/server.js'
import { natsSessions } from './harness/sessions.js'

const skip = natsUnavailable()
const encoder = new TextEncoder()

/** A processor that holds each session open until `gate` opens (or the session is cancelled). */
function held(gate: Promise<void>): ProcessorFn {
  return async function* heldEcho(source, ctx) {
    for await (const f of source) {
      if (f.kind === 'data') {
        await Promise.race([gate, new Promise<void>((resolve) => ctx.cancelSignal.addEventListener('abort', () => resolve(), { once: true }))])
        if (ctx.cancelSignal.aborted) return
      }
      yield f
    }
  }
}

function latch(): { open: Promise<void>; release: () => void } {
  let release!: () => void
  const open = new Promise<void>((resolve) => (release = resolve))
  return { open, release }
}

/** Counts the open requests that reach `subject` (beside whoever answers them). */
function spy(nc: NatsConnection, subject: string): { count: number; stop: () => void } {
  const seen = { count: 0, stop: () => sub.unsubscribe() }
  const sub = nc.subscribe(subject, { callback: () => void seen.count++ })
  return seen
}

describe.skipIf(skip !== undefined)('load-aware placement over a real nats-server', () => {
  const nats = natsSessions('place')
  let caller: NatsConnection
  let worker: NatsConnection
  beforeAll(() => {
    caller = nats.caller
    worker = nats.worker
  })

  /** Opens `n` sessions at once on `subject`, each held open by its worker; resolves with their infos once all are open. */
  async function openHeld(subject: string, n: number, options: { placement?: 'least-loaded' | 'queue-group' } = {}) {
    const infos: RemoteSessionInfo[] = []
    const tasks = Array.from({ length: n }, () => new PipelineTask(pipeline(remote(caller, subject, { ...options, onSession: (s) => infos.push(s) }))))
    const results = tasks.map((t) => t.run())
    await Promise.all(tasks.map((t) => t.queueFrame(Frames.text('hold'))))
    await until(() => infos.length === n, 10_000, `${n} sessions open`)
    const finish = async (): Promise<TaskResult[]> => {
      for (const t of tasks) t.stopWhenDone()
      return Promise.all(results)
    }
    return { infos, finish }
  }

  const countBy = (infos: readonly RemoteSessionInfo[], services: readonly NatsService[]): number[] =>
    services.map((s) => infos.filter((i) => i.workerId === s.id).length)

  it('a burst of sessions spreads evenly over 3 workers, before any report comes back', async () => {
    const gate = latch()
    const a = nats.serveFresh(() => held(gate.open))
    const subject = a.subject
    const b = nats.serveFresh(() => held(gate.open), { subject })
    const c = nats.serveFresh(() => held(gate.open), { subject })
    await worker.flush()
    const { infos, finish } = await openHeld(subject, 30)
    expect(infos.every((i) => i.placement === 'least-loaded')).toBe(true)
    expect(countBy(infos, [a.service, b.service, c.service])).toEqual([10, 10, 10])
    // a second burst goes on evenly, the reports now counting the first
    const more = await openHeld(subject, 6)
    expect(countBy(more.infos, [a.service, b.service, c.service])).toEqual([2, 2, 2])
    gate.release()
    for (const r of [...(await finish()), ...(await more.finish())]) expect(r.status).toBe('ended')
  })

  it('a full worker and a draining one are skipped: no open request reaches them', async () => {
    const gate = latch()
    const small = nats.serveFresh(() => held(gate.open), { maxSessions: 1, loadReportMs: 100 })
    const subject = small.subject
    const big = nats.serveFresh(() => held(gate.open), { subject, loadReportMs: 100 })
    await worker.flush()
    const toSmall = spy(worker, directSubject(subject, small.service.id))
    const first = await openHeld(subject, 5)
    expect(countBy(first.infos, [small.service, big.service])).toEqual([1, 4])
    expect(toSmall.count).toBe(1) // its one session; the caller knew it was full after that

    // drain the big one (its 4 sessions keep it draining): with the small one full, no worker is left to choose
    const draining = spy(worker, directSubject(subject, big.service.id))
    const drained = big.service.drain()
    const table = workersOf(caller, subject)
    await until(() => table.pick(new Set()) === undefined, 5000, 'the drain and the full worker reported')
    const third = nats.serveFresh(() => held(gate.open), { subject, loadReportMs: 100 })
    await until(() => table.pick(new Set())?.report.id === third.service.id, 5000, 'the new worker reported')
    const later = await openHeld(subject, 3)
    expect(countBy(later.infos, [small.service, big.service, third.service])).toEqual([0, 0, 3])
    expect(draining.count).toBe(0)
    expect(toSmall.count).toBe(1)
    gate.release()
    for (const r of [...(await first.finish()), ...(await later.finish())]) expect(r.status).toBe('ended')
    await drained
    toSmall.stop()
    draining.stop()
  })

  it('a worker that stops reporting is no longer chosen; one that refuses is passed over for the next', async () => {
    const gate = latch()
    let sessions = 0
    const real = nats.serveFresh(() => (sessions++ === 0 ? held(gate.open) : held(Promise.resolve())), { loadReportMs: 50 })
    const subject = real.subject
    // One session held on the real worker: the ghost below, reporting none, is strictly the least loaded.
    const busy = await openHeld(subject, 1)
    // A ghost worker: reports an empty load every 50 ms, refuses every open as busy.
    const ghost: LoadReport = { v: LOAD_REPORT_VERSION, id: 'ghost', open: directSubject(subject, 'ghost'), state: 'serving', sessions: 0, max: 100, frames: 0, started: 0, every: 50 }
    let asked = 0
    const ghostSub = worker.subscribe(ghost.open, {
      callback: (_err, msg) => {
        asked++
        msg.respond(encoder.encode(JSON.stringify({ ok: false, code: 'busy', message: 'ghost' })))
      },
    })
    const reporting = setInterval(() => worker.publish(loadSubject(subject), encodeLoadReport(ghost)), 50)
    worker.publish(loadSubject(subject), encodeLoadReport(ghost))
    await worker.flush()
    const table = workersOf(caller, subject)
    await table.ready()
    await until(() => table.size === 2, 5000, 'both reports')

    const infos: RemoteSessionInfo[] = []
    for await (const _ of run(pipeline(remote(caller, subject, { onSession: (s) => infos.push(s) })), [Frames.text('a')])) void _
    expect(asked).toBe(1) // the emptiest worker was asked first, refused, and the next one took it
    expect(infos[0]).toMatchObject({ workerId: real.service.id, placement: 'least-loaded' })

    clearInterval(reporting)
    await until(() => table.size === 1, 5000, 'the silent worker expired') // 3 periods of 50 ms
    asked = 0
    for await (const _ of run(pipeline(remote(caller, subject, { onSession: (s) => infos.push(s) })), [Frames.text('b')])) void _
    expect(asked).toBe(0)
    expect(infos[1]).toMatchObject({ workerId: real.service.id, placement: 'least-loaded' })
    gate.release()
    expect((await busy.finish())[0]?.status).toBe('ended')
    ghostSub.unsubscribe()
  })

  it('with no worker reporting, the queue group places the session (a worker of an older version)', async () => {
    const subject = 'place.old'
    // A worker that only speaks the session protocol: accepts the open in the queue group, then completes at once.
    const old = worker.subscribe(subject, {
      queue: 'apipeline',
      callback: (_err, msg) => {
        const request = decodeOpenRequest(msg.data)
        msg.respond(encoder.encode(JSON.stringify({ ok: true, worker: `${subject}.peer`, window: 8, workerId: 'old' })))
        worker.publish(request.caller, encodeEnvelope(MessageType.close, CloseReason.done, 0, 0))
      },
    })
    await worker.flush()
    const infos: RemoteSessionInfo[] = []
    const handle = run(pipeline(remote(caller, subject, { onSession: (s) => infos.push(s) })), [Frames.text('x')])
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('ended')
    expect(infos).toEqual([expect.objectContaining({ workerId: 'old', placement: 'queue-group' })])
    expect(workersOf(caller, subject).size).toBe(0)
    old.unsubscribe()
  })

  it('malformed load reports are ignored: no crash, no entry, placement goes on', async () => {
    const { subject, service } = nats.serveFresh(() => held(Promise.resolve()))
    const table = workersOf(caller, subject)
    await table.ready()
    expect(table.size).toBe(1)
    const good: LoadReport = { v: LOAD_REPORT_VERSION, id: 'fake', open: directSubject(subject, 'fake'), state: 'serving', sessions: 0, max: 10, frames: 0, started: 0, every: 1000 }
    const victim = spy(worker, 'place.victim')
    const junk: unknown[] = [
      'not json',
      [1, 2],
      null,
      { ...good, v: 2 },
      { ...good, open: 'place.victim' },
      { ...good, id: 'a.b', open: directSubject(subject, 'a.b') },
      { ...good, id: '>', open: directSubject(subject, '>') },
      { ...good, sessions: -1 },
      { ...good, max: 0 },
      { ...good, every: 1.5 },
      { ...good, state: 'happy' },
      { ...good, started: '3' },
    ]
    for (const j of junk) {
      const bytes = typeof j === 'string' ? encoder.encode(j) : encoder.encode(JSON.stringify(j))
      if (typeof j === 'object' && j !== null && !Array.isArray(j)) expect(() => decodeLoadReport(bytes, subject), JSON.stringify(j)).toThrow(MalformedMessageError)
      worker.publish(loadSubject(subject), bytes)
    }
    worker.publish(loadSubject(subject), new Uint8Array([0xff, 0xfe]))
    await worker.flush()
    await caller.flush()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(table.size).toBe(1)
    const infos: RemoteSessionInfo[] = []
    const handle = run(pipeline(remote(caller, subject, { onSession: (s) => infos.push(s) })), [Frames.text('still fine')])
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('ended')
    expect(infos[0]).toMatchObject({ workerId: service.id, placement: 'least-loaded' })
    expect(victim.count).toBe(0)
    expect(decodeLoadReport(encodeLoadReport(good), subject)).toEqual(good)
    victim.stop()
  })
})
