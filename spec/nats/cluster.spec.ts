/**
 * A 2-node NATS cluster (routes between two servers), the topology of two machines: the caller connects to one
 * node, worker processes to the other. Sessions cross the route. When the caller's node restarts, the client fails
 * over to the other node (it learns the cluster's URLs from the server) or, when it cannot, waits for its node:
 * a session in flight either carries on with every frame exactly once and in order (no message was lost in the
 * switch) or fails with a typed error — a lost message is a gap, a peer silent past the heartbeat timeout is a
 * lost worker — never a hang.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Frames, pipeline, run, type Frame, type TaskResult } from '../../lib/index.js'
import { RemoteSessionError, WorkerLostError, remote, type RemoteOptions } from '../../lib/nats/index.js'
import { connectTo, nextReconnect, until, waitForRoute } from './harness/connections.js'
import { spawnWorker, type Child } from './harness/processes.js'
import { natsUnavailable, startCluster, type NatsNode } from './harness/server.js'

const skip = natsUnavailable()
const texts = (frames: readonly Frame[]): string[] => frames.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))
const numbers = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves as `work` does, or rejects naming `what` when it takes longer than `ms`. */
function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

/** A session through `remote(nc, 'cluster.upper')` fed with numbered text frames the spec lets through. */
interface NumberedSession {
  /** The texts that came back, in arrival order. */
  readonly received: string[]
  /** Frames the input has produced so far. */
  readonly sent: () => number
  /** The task's result once it finished. */
  readonly result: () => TaskResult | undefined
  /** Resolves once the task finished and its output was read. */
  readonly reading: Promise<void>
  /** Lets the input produce frames until `total` were sent. */
  allow(total: number): void
  /** Ends the input (the session then ends gracefully). */
  end(): void
}

/** Starts a {@link NumberedSession}: one frame every `periodMs` while allowed (`allowed` frames to begin with). */
function numberedSession(nc: NatsConnection, options: RemoteOptions, periodMs: number, allowed = Infinity): NumberedSession {
  let sent = 0
  let limit = allowed
  let ended = false
  let wake: (() => void) | undefined
  const poke = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  async function* input(): AsyncGenerator<Frame> {
    while (!ended) {
      if (sent >= limit) {
        await new Promise<void>((resolve) => (wake = resolve))
        continue
      }
      sent++
      yield Frames.text(String(sent - 1))
      if (periodMs > 0) await sleep(periodMs)
    }
  }
  const handle = run(pipeline(remote(nc, 'cluster.upper', options)), input())
  const received: string[] = []
  let result: TaskResult | undefined
  const reading = (async () => {
    try {
      for await (const f of handle) if (f.kind === 'data' && f.type === 'text') received.push(f.text)
    } catch {
      // the typed error is checked on the result
    }
    result = await handle.result
  })()
  return {
    received,
    sent: () => sent,
    result: () => result,
    reading,
    allow(total) {
      limit = total
      poke()
    },
    end() {
      ended = true
      poke()
    },
  }
}

describe.skipIf(skip !== undefined)('a 2-node NATS cluster: caller on one node, workers on the other', () => {
  let nodes: NatsNode[]
  let caller: NatsConnection
  const workers: Child[] = []

  /** Waits until both nodes route to each other again (after a restart). */
  async function clusterWhole(): Promise<void> {
    const [a, b] = nodes as [NatsNode, NatsNode]
    const onA = await connectTo(a.url, 'probe-a', { ignoreClusterUpdates: true })
    const onB = await connectTo(b.url, 'probe-b', { ignoreClusterUpdates: true })
    try {
      await waitForRoute(onA, onB, 20_000)
      await waitForRoute(onB, onA, 20_000)
    } finally {
      await onA.close()
      await onB.close()
    }
  }

  /** A new session on `nc` works: each bounded attempt that finds no worker yet is retried until the deadline. */
  async function newSessionWorks(nc: NatsConnection): Promise<void> {
    const deadline = Date.now() + 30_000
    let out: Frame[] = []
    for (;;) {
      out = []
      const attempt = run(pipeline(remote(nc, 'cluster.upper', { openTimeoutMs: 5_000 })), [Frames.text('again')])
      const collected = (async () => {
        for await (const f of attempt) out.push(f)
      })()
      const ok = await within(collected, 12_000, 'a new session after the reconnect').then(
        () => true,
        (err: unknown) => {
          if (Date.now() > deadline) throw err
          return false
        },
      )
      if (ok) break
    }
    expect(texts(out)).toEqual(['AGAIN'])
  }

  beforeAll(async () => {
    nodes = await startCluster(2)
    const [a, b] = nodes as [NatsNode, NatsNode]
    caller = await connectTo(a.url, 'caller')
    const probe = await connectTo(b.url, 'probe')
    await waitForRoute(caller, probe)
    await probe.close()
    workers.push(...(await Promise.all([spawnWorker([b.url], 'cluster.upper', 'upper'), spawnWorker([b.url], 'cluster.upper', 'upper')])))
  }, 60_000)

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL')
    await caller?.close()
    await Promise.all((nodes ?? []).map((n) => n.stop()))
  })

  it('sessions cross the route: every frame comes back in order, from workers on the other node', async () => {
    const seen = new Set<string>()
    const runs = Array.from({ length: 6 }, async (_, s) => {
      const input = Array.from({ length: 500 }, (_, i) => Frames.text(`s${s}-${i}`))
      const out: Frame[] = []
      const handle = run(pipeline(remote(caller, 'cluster.upper', { openTimeoutMs: 5000, onSession: (info) => seen.add(info.workerId) })), input)
      for await (const f of handle) out.push(f)
      expect((await handle.result).status).toBe('ended')
      expect(texts(out)).toEqual(input.map((f) => f.text.toUpperCase()))
    })
    await Promise.all(runs)
    expect([...seen].every((id) => workers.some((w) => w.ready[0] === id))).toBe(true)
  }, 30_000)

  it("restarting the caller's node with frames in flight: the session carries on with every frame exactly once and in order, or fails with a typed error; new sessions work", async () => {
    const a = nodes[0] as NatsNode
    // Connected to node a, the client knows node b from the cluster's INFO and fails over to it.
    const nc = await connectTo(a.url, 'caller-in-flight')
    try {
      const s = numberedSession(nc, { heartbeatMs: 250, heartbeatTimeoutMs: 2500, openTimeoutMs: 5000 }, 10)
      await until(() => s.received.length > 20, 10_000, 'the session to run')
      await a.stop()
      await sleep(300)
      await a.restart()
      const atRestart = s.received.length
      await until(() => s.result() !== undefined || s.received.length >= atRestart + 100, 15_000, 'the session in flight to fail or carry on')
      if (s.result() === undefined) {
        // No message was lost in the switch: the session went on. It ends gracefully with every frame once, in order.
        s.end()
        await within(s.reading, 10_000, 'the session to end after its input ended')
        expect(s.result()?.status).toBe('ended')
        expect(s.received).toEqual(numbers(s.sent()))
      } else {
        // A message was lost in the switch: the session failed with a typed error; what came back before is in order.
        expect(s.result()?.status).toBe('errored')
        expect(s.result()?.error?.cause).toBeInstanceOf(RemoteSessionError)
        expect(s.received).toEqual(numbers(s.received.length))
      }
      await newSessionWorks(nc)
    } finally {
      await nc.close()
      await clusterWhole()
    }
  }, 90_000)

  it("the caller's node goes away and its client cannot fail over: the session in flight fails with a WorkerLostError (heartbeat), a new one fails with a typed error, sessions work again once the node is back", async () => {
    const a = nodes[0] as NatsNode
    const nc = await connectTo(a.url, 'caller-pinned', { ignoreClusterUpdates: true })
    let down = false
    try {
      const s = numberedSession(nc, { heartbeatMs: 250, heartbeatTimeoutMs: 2500, openTimeoutMs: 5000 }, 10)
      await until(() => s.received.length > 20, 10_000, 'the session to run')
      down = true
      await a.stop()
      // Nothing reaches the caller while its node is down: the link's heartbeat timeout (2.5 s) ends the session.
      await within(s.reading, 12_000, 'the session in flight to fail while its node is down')
      expect(s.result()?.status).toBe('errored')
      const cause = s.result()?.error?.cause
      expect(cause).toBeInstanceOf(WorkerLostError)
      expect((cause as WorkerLostError).reason).toBe('heartbeat')
      expect(s.received).toEqual(numbers(s.received.length))

      // A session opened while the node is down finds no worker: a typed error after its bounded wait.
      const fresh = run(pipeline(remote(nc, 'cluster.upper', { openTimeoutMs: 500 })), [Frames.text('nobody?')])
      await within(
        (async () => {
          try {
            for await (const _ of fresh) void _
          } catch {
            // checked on the result
          }
        })(),
        10_000,
        'a session opened while the node is down to fail',
      )
      const freshResult = await fresh.result
      expect(freshResult.status).toBe('errored')
      expect(freshResult.error?.cause).toBeInstanceOf(RemoteSessionError)

      const back = nextReconnect(nc, 20_000)
      await a.restart()
      down = false
      await back
      await clusterWhole()
      await newSessionWorks(nc)
    } finally {
      await nc.close()
      if (down) await a.restart()
      await clusterWhole()
    }
  }, 90_000)

  it("an idle session survives its caller's node restarting: the client fails over to the other node, nothing is lost, the session carries on", async () => {
    const [a, b] = nodes as [NatsNode, NatsNode]
    const nc = await connectTo(a.url, 'caller-idle')
    let down = false
    try {
      // Heartbeats every 30 s at most: while the input waits, neither side sends anything during the switch.
      const s = numberedSession(nc, { heartbeatMs: 60_000, openTimeoutMs: 5000 }, 0, 50)
      await until(() => s.received.length === 50, 10_000, 'the first 50 frames')
      await sleep(200)
      await nc.flush()
      const failover = nextReconnect(nc, 20_000)
      down = true
      await a.stop()
      expect(await failover).toBe(b.url.replace('nats://', ''))
      s.allow(100)
      await until(() => s.received.length === 100 || s.result() !== undefined, 10_000, 'the next 50 frames after the failover')
      s.end()
      await within(s.reading, 10_000, 'the session to end')
      expect(s.result()?.status).toBe('ended')
      expect(s.received).toEqual(numbers(100))
    } finally {
      await nc.close()
      if (down) await a.restart()
      await clusterWhole()
    }
  }, 60_000)
})
