/**
 * NATS benchmarks (`apipeline-ts/nats`), with a real nats-server on a free loopback port and workers as child
 * processes (`spec/nats/fixtures/worker.ts`), side by side in one run:
 *
 * - hop cost: a pass-through stage in-process vs through `remote()`; per-frame latency p50/p99 with 10 sessions at
 *   50 frames/s each (the audio rate), and max frames/s of 640-byte audio frames on one session;
 * - scaling: a CPU-bound stage (a fixed amount of work, ~200 µs of CPU time per data frame) served by 1 vs 2 worker processes, 16 sessions
 *   (`BENCH_NATS_SESSIONS`) of 16,000 frames in all (target: 2 workers ≥ 1.7× the throughput of 1), the 2 workers
 *   with load-aware placement (the default) and placed at random by the queue group, with the CPU time per frame of
 *   the caller, the nats-server and the workers, and each round's split of sessions over the 2 workers;
 * - session spread: 200 sessions over 2 workers (target: each within ±20 % of half);
 * - memory: caller and worker RSS over `BENCH_NATS_FRAMES` (default 1,000,000) 640-byte audio frames echoed by a
 *   worker into a slow consumer (one event-loop turn per frame).
 *
 * A calibration row gives the round trip of a bare NATS request/reply between the same processes at the same rate:
 * the floor of any hop on this machine.
 *
 * Environment: `BENCH_NATS_FRAMES` (memory run), `BENCH_NATS_SESSIONS` (scaling), `BENCH_REPS`, `BENCH_NATS_PARTS` (comma-separated subset of
 * `hop,scaling,spread,memory`; default all).
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Frames, PipelineTask, pipeline, run, type Frame, type Processor } from '../lib/index.js'
import { remote, type RemoteSessionInfo } from '../lib/nats/index.js'
import { connectTo } from '../spec/nats/harness/connections.js'
import { calibrate } from '../spec/nats/fixtures/work.js'
import { spawnWorker, type Child } from '../spec/nats/harness/processes.js'
import { natsServerBinary, startNats, type NatsNode } from '../spec/nats/harness/server.js'
import { timeSideBySide, type BenchRow } from './harness.js'

const BENCH = 'NATS'
const AUDIO_BYTES = 640
const reps = Math.max(1, Number(process.env.BENCH_REPS ?? 3) || 3)

const passThrough: Processor = async function* passThrough(source) {
  yield* source
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

const ms = (v: number): string => `${v.toFixed(2)} ms`

/** Latency of each frame through `stage`, with `sessions` sessions at `fps` frames/s each, `frames` frames each. */
async function latencies(stage: () => Processor, sessions: number, fps: number, frames: number): Promise<number[]> {
  const all: number[] = []
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      const sent = new Map<number, number>()
      const task = new PipelineTask(pipeline(stage()))
      const reading = (async () => {
        for await (const f of task.frames()) {
          if (f.kind === 'data' && f.type === 'audioRaw') {
            const t = sent.get(f.id)
            if (t !== undefined) all.push(performance.now() - t)
          }
        }
      })()
      const done = task.run()
      // stagger the sessions over one frame period
      await new Promise((resolve) => setTimeout(resolve, (1000 / fps / sessions) * s))
      const start = performance.now()
      for (let i = 0; i < frames; i++) {
        const due = start + (i * 1000) / fps
        const wait = due - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        const frame = Frames.audioRaw({ audio: new Uint8Array(AUDIO_BYTES) })
        sent.set(frame.id, performance.now())
        await task.queueFrame(frame)
      }
      task.stopWhenDone()
      await done
      await reading
    }),
  )
  return all.sort((a, b) => a - b)
}

/** Round trips of bare NATS requests (640-byte payloads) at the same rate and concurrency as {@link latencies}. */
async function requestLatencies(nc: NatsConnection, subject: string, sessions: number, fps: number, frames: number): Promise<number[]> {
  const all: number[] = []
  const payload = new Uint8Array(AUDIO_BYTES)
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      await new Promise((resolve) => setTimeout(resolve, (1000 / fps / sessions) * s))
      const start = performance.now()
      for (let i = 0; i < frames; i++) {
        const wait = start + (i * 1000) / fps - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        const t0 = performance.now()
        await nc.request(subject, payload, { timeout: 5000 })
        all.push(performance.now() - t0)
      }
    }),
  )
  return all.sort((a, b) => a - b)
}

/** Pushes `frames` audio frames through `stage` on one session as fast as it goes. */
async function pump(stage: Processor, frames: number): Promise<void> {
  async function* input(): AsyncGenerator<Frame> {
    for (let i = 0; i < frames; i++) yield Frames.audioRaw({ audio: new Uint8Array(AUDIO_BYTES) })
  }
  let n = 0
  for await (const f of run(pipeline(stage), input())) if (f.kind === 'data') n++
  if (n !== frames) throw new Error(`${n} of ${frames} frames came back`)
}

/** `sessions` sessions of `frames` text frames each through `stage()`, all at once. */
async function sessionsAtOnce(stage: () => Processor, sessions: number, frames: number): Promise<void> {
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      const input = Array.from({ length: frames }, (_, i) => Frames.text(String(i)))
      let n = 0
      for await (const f of run(pipeline(stage()), input)) if (f.kind === 'data') n++
      if (n !== frames) throw new Error(`${n} of ${frames} frames came back`)
    }),
  )
}

async function hopCost(nc: NatsConnection, rows: BenchRow[]): Promise<void> {
  const sessions = 10
  const fps = 50
  const frames = 100
  const bare = await requestLatencies(nc, 'bench.echo.ping', sessions, fps, frames)
  rows.push({
    bench: BENCH,
    variant: 'hop floor: bare NATS request/reply to the worker process, 10 × 50/s',
    frames: bare.length,
    ms: (frames * 1000) / fps,
    note: `round trip p50 ${ms(percentile(bare, 0.5))} / p99 ${ms(percentile(bare, 0.99))}`,
  })
  const local = await latencies(() => passThrough, sessions, fps, frames)
  const viaNats = await latencies(() => remote(nc, 'bench.echo'), sessions, fps, frames)
  const wall = (frames * 1000) / fps
  rows.push({
    bench: BENCH,
    variant: 'hop: in-process pass-through, 10 sessions × 50 frames/s',
    frames: local.length,
    ms: wall,
    note: `latency p50 ${ms(percentile(local, 0.5))} / p99 ${ms(percentile(local, 0.99))}`,
  })
  rows.push({
    bench: BENCH,
    variant: 'hop: through remote() to a worker process, 10 sessions × 50 frames/s',
    frames: viaNats.length,
    ms: wall,
    note: `latency p50 ${ms(percentile(viaNats, 0.5))} / p99 ${ms(percentile(viaNats, 0.99))} (round trip caller → worker → caller)`,
  })

  const n = 50_000
  const t = await timeSideBySide({ local: () => pump(passThrough, n), remote: () => pump(remote(nc, 'bench.echo'), n) }, reps)
  rows.push({ bench: BENCH, variant: 'max rate: in-process pass-through, 640-byte audio, one session', frames: n, ms: t['local'] as number })
  rows.push({
    bench: BENCH,
    variant: 'max rate: through remote(), 640-byte audio, one session',
    frames: n,
    ms: t['remote'] as number,
    baseline: 'max rate: in-process pass-through, 640-byte audio, one session',
    note: `${Math.round((n * 1000) / (t['remote'] as number))} frames/s round trip (${(((n * AUDIO_BYTES * 2) / (t['remote'] as number)) * 1000 / 1e6).toFixed(1)} MB/s of audio both ways)`,
  })
}

/** CPU time (user + system) of process `pid` in µs, read from /proc; undefined where /proc is not available. */
function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15 (clock ticks).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return (ticks * 1e6) / 100 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

/**
 * CPU µs spent by this process and by each of `pids` while `work` runs, and the NATS messages `nc` sent (`out`) and
 * received (`in`), accumulated into `into`.
 */
async function accountCpu(nc: NatsConnection, pids: Record<string, number | undefined>, into: Record<string, number>, work: () => Promise<void>): Promise<void> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuMicros(pid)]))
  const self = process.cpuUsage()
  const messages = nc.stats()
  await work()
  const used = process.cpuUsage(self)
  const after = nc.stats()
  into['caller'] = (into['caller'] ?? 0) + used.user + used.system
  into['out'] = (into['out'] ?? 0) + after.outMsgs - messages.outMsgs
  into['in'] = (into['in'] ?? 0) + after.inMsgs - messages.inMsgs
  for (const [k, pid] of Object.entries(pids)) {
    const a = before[k]
    const b = processCpuMicros(pid)
    if (a !== undefined && b !== undefined) into[k] = (into[k] ?? 0) + (b - a)
  }
}

type Variant = 'one' | 'two' | 'random'

async function scaling(nc: NatsConnection, server: NatsNode, one: Child, two: readonly Child[], rows: BenchRow[]): Promise<void> {
  const sessions = Math.max(2, Number(process.env.BENCH_NATS_SESSIONS ?? 16) || 16)
  const frames = Math.round(16_000 / sessions)
  const cpu: Record<Variant, Record<string, number>> = { one: {}, two: {}, random: {} }
  const runs: Record<Variant, number> = { one: 0, two: 0, random: 0 }
  /** One run of `sessions` sessions on `workers`: its wall time, and how many sessions each worker took. */
  const runOn = async (name: Variant, subject: string, workers: readonly Child[]): Promise<{ ms: number; split: string }> => {
    runs[name]++
    const pids: Record<string, number | undefined> = { server: server.pid }
    workers.forEach((w, i) => (pids[`worker${i}`] = w.pid))
    const taken = new Map<string, number>()
    const onSession = (s: RemoteSessionInfo): void => void taken.set(s.workerId, (taken.get(s.workerId) ?? 0) + 1)
    const placement = name === 'random' ? 'queue-group' : 'least-loaded'
    const t0 = performance.now()
    await accountCpu(nc, pids, cpu[name], () => sessionsAtOnce(() => remote(nc, subject, { onSession, placement }), sessions, frames))
    return { ms: performance.now() - t0, split: workers.map((w) => taken.get(w.ready[0] as string) ?? 0).join('/') }
  }
  // Side by side: a warm-up of each, then rounds of 1 worker, 2 workers with load-aware placement (the default) and
  // 2 workers placed by the queue group (at random); each round of 2 workers reports its split.
  await runOn('one', 'bench.cpu.one', [one])
  await runOn('two', 'bench.cpu.two', two)
  await runOn('random', 'bench.cpu.two', two)
  const rounds: { one: number; two: number; random: number; split: string; randomSplit: string }[] = []
  for (let r = 0; r < reps; r++) {
    const a = await runOn('one', 'bench.cpu.one', [one])
    const b = await runOn('two', 'bench.cpu.two', two)
    const c = await runOn('random', 'bench.cpu.two', two)
    rounds.push({ one: a.ms, two: b.ms, random: c.ms, split: b.split, randomSplit: c.split })
  }
  const median = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number
  /** CPU µs per frame of each process, e.g. `caller 31, server 9, workers 231 + 229`. */
  const perFrame = (name: Variant): string => {
    const c = cpu[name]
    const total = sessions * frames * runs[name]
    const us = (v: number | undefined): string => (v === undefined ? '?' : String(Math.round(v / total)))
    const workers = Object.keys(c).filter((k) => k.startsWith('worker'))
    const count = (v: number | undefined): string => ((v ?? 0) / total).toFixed(2)
    return `CPU µs per frame: caller ${us(c['caller'])}, nats-server ${us(c['server'])}, worker${workers.length > 1 ? 's' : ''} ${workers.map((k) => us(c[k])).join(' + ')}; caller's NATS messages per frame: ${count(c['out'])} out, ${count(c['in'])} in`
  }
  const tOne = median(rounds.map((r) => r.one))
  const tTwo = median(rounds.map((r) => r.two))
  const tRandom = median(rounds.map((r) => r.random))
  const base = `scaling: ~200 µs/frame stage, 1 worker process, ${sessions} sessions`
  rows.push({ bench: BENCH, variant: base, frames: sessions * frames, ms: tOne, note: perFrame('one') })
  rows.push({
    bench: BENCH,
    variant: `scaling: ~200 µs/frame stage, 2 worker processes, least-loaded placement, ${sessions} sessions`,
    frames: sessions * frames,
    ms: tTwo,
    baseline: base,
    note:
      `${(tOne / tTwo).toFixed(2)}x the throughput of 1 worker (target >= 1.7x); rounds (sessions per worker: ratio) ` +
      `${rounds.map((r) => `${r.split}: ${(r.one / r.two).toFixed(2)}x`).join(', ')}; ${perFrame('two')}`,
  })
  rows.push({
    bench: BENCH,
    variant: `scaling: ~200 µs/frame stage, 2 worker processes, queue-group placement, ${sessions} sessions`,
    frames: sessions * frames,
    ms: tRandom,
    baseline: base,
    note:
      `${(tOne / tRandom).toFixed(2)}x the throughput of 1 worker; rounds ` +
      `${rounds.map((r) => `${r.randomSplit}: ${(r.one / r.random).toFixed(2)}x`).join(', ')}; ${perFrame('random')}`,
  })
}

async function spread(nc: NatsConnection, workers: readonly Child[], rows: BenchRow[]): Promise<void> {
  const counts = new Map<string, number>()
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      let id = ''
      for await (const _ of run(pipeline(remote(nc, 'bench.spread', { openTimeoutMs: 10_000, onSession: (s) => (id = s.workerId) })), [Frames.text('hi')])) void _
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }),
  )
  const per = workers.map((w) => counts.get(w.ready[0] as string) ?? 0)
  const within = per.every((c) => Math.abs(c - 100) <= 20)
  rows.push({
    bench: BENCH,
    variant: 'spread: 200 sessions over 2 worker processes',
    frames: 200,
    ms: performance.now() - t0,
    note: `sessions per worker ${per.join(' / ')} (target each 100 ± 20: ${within ? 'met' : 'MISSED'})`,
  })
}

async function memory(nc: NatsConnection, worker: Child, rows: BenchRow[]): Promise<void> {
  const n = Math.max(10_000, Number(process.env.BENCH_NATS_FRAMES ?? 1_000_000) || 1_000_000)
  const lastWorker = (): [number, number] => {
    const line = [...worker.lines].reverse().find((l) => l.startsWith('rss '))
    const [, rss = '0', heap = '0'] = line?.split(' ') ?? []
    return [Number(rss) / 2 ** 20, Number(heap) / 2 ** 20]
  }
  // A GC before each caller sample, so the heap figure is what is live (RSS also shows what the GC kept).
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  async function* input(): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) yield Frames.audioRaw({ audio: new Uint8Array(AUDIO_BYTES) })
  }
  const callerRss: number[] = []
  const callerHeap: number[] = []
  const workerRss: number[] = []
  const workerHeap: number[] = []
  let got = 0
  const t0 = performance.now()
  for await (const f of run(pipeline(remote(nc, 'bench.memory')), input())) {
    if (f.kind !== 'data') continue
    got++
    // the slow consumer: one event-loop turn per frame
    await new Promise((resolve) => setImmediate(resolve))
    if (got % Math.floor(n / 10) === 0) {
      gc()
      const m = process.memoryUsage()
      callerRss.push(m.rss / 2 ** 20)
      callerHeap.push(m.heapUsed / 2 ** 20)
      const [rss, heap] = lastWorker()
      workerRss.push(rss)
      workerHeap.push(heap)
    }
  }
  const wall = performance.now() - t0
  if (got !== n) throw new Error(`${got} of ${n} frames came back`)
  const fmt = (xs: readonly number[]): string => `${(xs[0] ?? 0).toFixed(1)} → ${(xs.at(-1) ?? 0).toFixed(1)} MB (max ${Math.max(...xs).toFixed(1)})`
  const note = (rss: readonly number[], heap: readonly number[]): string => `10 % → 100 % of the frames: RSS ${fmt(rss)}, heap after GC ${fmt(heap)}`
  rows.push({ bench: BENCH, variant: 'memory: audio echoed into a slow consumer, caller', frames: n, ms: wall, note: note(callerRss, callerHeap) })
  rows.push({ bench: BENCH, variant: 'memory: audio echoed into a slow consumer, worker process', frames: n, ms: wall, note: note(workerRss, workerHeap) })
}

/** All NATS rows. */
export async function bench(): Promise<BenchRow[]> {
  if (natsServerBinary() === undefined) throw new Error('nats-server is not installed')
  const rows: BenchRow[] = []
  const node: NatsNode = await startNats()
  const children: Child[] = []
  let nc: NatsConnection | undefined
  try {
    const url = [node.url]
    // The CPU-bound stage: a fixed amount of work per frame, ~200 µs of CPU time as measured here (the workers run the
    // same code on the same node), so a worker's CPU per frame does not depend on what else runs on the machine.
    const iterations = String(calibrate(200))
    const [echo, cpuOne, cpuTwoA, cpuTwoB, spreadA, spreadB, mem] = await Promise.all([
      spawnWorker(url, 'bench.echo'),
      spawnWorker(url, 'bench.cpu.one', 'work', iterations),
      spawnWorker(url, 'bench.cpu.two', 'work', iterations),
      spawnWorker(url, 'bench.cpu.two', 'work', iterations),
      spawnWorker(url, 'bench.spread'),
      spawnWorker(url, 'bench.spread'),
      spawnWorker(url, 'bench.memory', 'echo', '0', { REPORT_RSS_MS: '200', NODE_OPTIONS: '--expose-gc' }),
    ])
    children.push(echo, cpuOne, cpuTwoA, cpuTwoB, spreadA, spreadB, mem)
    nc = await connectTo(node.url, 'bench')
    const parts = new Set((process.env.BENCH_NATS_PARTS ?? 'hop,scaling,spread,memory').split(',').map((p) => p.trim()))
    if (parts.has('hop')) await hopCost(nc, rows)
    if (parts.has('scaling')) await scaling(nc, node, cpuOne, [cpuTwoA, cpuTwoB], rows)
    if (parts.has('spread')) await spread(nc, [spreadA, spreadB], rows)
    if (parts.has('memory')) await memory(nc, mem, rows)
  } finally {
    for (const c of children) c.kill('SIGKILL')
    await nc?.close()
    await node.stop()
  }
  return rows
}
