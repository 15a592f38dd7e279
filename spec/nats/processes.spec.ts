/**
 * Workers and callers as real child processes: kill -9 a worker mid-stream, kill a caller, drain a worker on SIGTERM.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Frames, PipelineTask, pipeline, type Frame, type TaskResult } from '../../lib/index.js'
import { WorkerLostError, remote, serve, type NatsService, type RemoteSessionInfo, type SessionInfo } from '../../lib/nats/index.js'
import { connectTo, until } from './harness/connections.js'
import { spawnScript, spawnWorker, type Child } from './harness/processes.js'
import { natsUnavailable, startNats, type NatsNode } from './harness/server.js'

const skip = natsUnavailable()
const HEARTBEAT_MS = 250
const TIMEOUT_MS = 2500

/** A session fed by the spec: frames are queued one by one; every output frame is kept. */
function openSession(nc: NatsConnection, subject: string) {
  let info: RemoteSessionInfo | undefined
  const task = new PipelineTask(
    pipeline(remote(nc, subject, { heartbeatMs: HEARTBEAT_MS, heartbeatTimeoutMs: TIMEOUT_MS, onSession: (s) => (info = s) })),
  )
  const out: Frame[] = []
  const reader = (async () => {
    for await (const f of task.frames()) out.push(f)
  })()
  const done = task.run()
  return {
    task,
    out,
    done,
    reader,
    get info() {
      return info
    },
    texts: () => out.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : [])),
  }
}

describe.skipIf(skip !== undefined)('workers and callers as processes', () => {
  let node: NatsNode
  let nc: NatsConnection
  const children: Child[] = []

  beforeAll(async () => {
    node = await startNats()
    nc = await connectTo(node.url, 'spec')
  })

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL')
    await nc?.close()
    await node?.stop()
  })

  it('kill -9 of a worker mid-stream: its caller errors within the heartbeat timeout, the other sessions carry on', async () => {
    const [a, b] = await Promise.all([spawnWorker([node.url], 'proc.kill'), spawnWorker([node.url], 'proc.kill')])
    children.push(a as Child, b as Child)
    const pidOf = new Map([[a?.ready[0], a as Child], [b?.ready[0], b as Child]])
    // Open sessions until both workers have one (the queue group picks at random).
    const sessions: ReturnType<typeof openSession>[] = []
    for (let i = 0; i < 20; i++) {
      const s = openSession(nc, 'proc.kill')
      await s.task.queueFrame(Frames.text(`s${i}-0`))
      await until(() => s.info !== undefined && s.texts().length === 1, 10_000, 'a session')
      sessions.push(s)
      if (new Set(sessions.map((x) => x.info?.workerId)).size === 2 && sessions.length >= 3) break
    }
    const victimId = sessions[0]?.info?.workerId as string
    const victims = sessions.filter((s) => s.info?.workerId === victimId)
    const survivors = sessions.filter((s) => s.info?.workerId !== victimId)
    expect(survivors.length).toBeGreaterThan(0)

    const killedAt = performance.now()
    pidOf.get(victimId)?.kill('SIGKILL')
    const results = await Promise.all(victims.map((s) => s.done))
    const noticed = performance.now() - killedAt
    for (const r of results) {
      expect(r.status).toBe('errored')
      expect(r.error?.cause).toBeInstanceOf(WorkerLostError)
      expect((r.error?.cause as WorkerLostError).reason).toBe('heartbeat')
    }
    // within the heartbeat timeout (plus one check period and generous scheduling slack for a loaded machine)
    expect(noticed).toBeLessThan(TIMEOUT_MS + 5000)

    for (const [i, s] of survivors.entries()) {
      for (let k = 1; k <= 20; k++) await s.task.queueFrame(Frames.text(`x${i}-${k}`))
      s.task.stopWhenDone()
      expect((await s.done).status).toBe('ended')
      await s.reader
      expect(s.texts().slice(1)).toEqual(Array.from({ length: 20 }, (_, k) => `x${i}-${k + 1}`))
    }
  }, 40_000)

  it('kill -9 of a caller: the worker cancels its session and finalizes its stages within the heartbeat timeout', async () => {
    const ended: { session: SessionInfo; result: TaskResult }[] = []
    let finalized = 0
    const service: NatsService = serve(nc, {
      subject: 'proc.caller',
      processor: () =>
        async function* guarded(source) {
          try {
            yield* source
          } finally {
            finalized++
          }
        },
      onSessionEnd: (session, result) => ended.push({ session, result }),
    })
    try {
      const child = await spawnScript('spec/nats/fixtures/caller.ts', [node.url, 'proc.caller', String(HEARTBEAT_MS)])
      children.push(child)
      expect(service.sessions).toBe(1)
      const killedAt = performance.now()
      child.kill('SIGKILL')
      await until(() => ended.length === 1, 10_000, 'the orphaned session to end')
      expect(performance.now() - killedAt).toBeLessThan(3 * HEARTBEAT_MS + 5000)
      expect(ended[0]?.result.status).toBe('cancelled')
      expect(ended[0]?.session.id).toBe(child.ready[0])
      expect(finalized).toBe(1)
      expect(service.sessions).toBe(0)
    } finally {
      await service.close()
    }
  }, 30_000)

  it('SIGTERM drains a worker: the session in flight finishes with all its frames, new sessions go elsewhere', async () => {
    const slow = await spawnWorker([node.url], 'proc.drain', 'echo', '20')
    children.push(slow)
    const s = openSession(nc, 'proc.drain')
    await s.task.queueFrame(Frames.text('0'))
    await until(() => s.texts().length === 1, 10_000, 'the session')
    const feeding = (async () => {
      for (let k = 1; k < 50; k++) await s.task.queueFrame(Frames.text(String(k)))
      s.task.stopWhenDone()
    })()
    slow.kill('SIGTERM')
    // a second worker takes the sessions opened while the first drains
    const other = await spawnWorker([node.url], 'proc.drain')
    children.push(other)
    const late = openSession(nc, 'proc.drain')
    await late.task.queueFrame(Frames.text('late'))
    late.task.stopWhenDone()
    expect((await late.done).status).toBe('ended')
    expect(late.info?.workerId).toBe(other.ready[0])
    await feeding
    const result = await s.done
    expect(result.error?.error).toBeUndefined()
    expect(result.status).toBe('ended')
    await s.reader
    expect(s.texts()).toEqual(Array.from({ length: 50 }, (_, k) => String(k)))
    expect(await slow.exited).toBe(0)
  }, 40_000)
})
