/**
 * W1–W3: the WebSocket transport on loopback (`apipeline-ts/websocket`), side by side with bare `ws` doing the same
 * serialization work without sessions, tasks or async iteration: its client encodes every frame it sends and decodes
 * every message it receives, its server decodes each message into a frame and encodes it back.
 *
 * - W1: round trip client → server pipeline (pass-through) → client, one frame at a time: p50/p99 at 1 and at 200
 *   concurrent sessions.
 * - W2: 640-byte audio frames (protobuf) streamed through one connection and back: frames/s, ratio to bare `ws`.
 * - W3: server memory per idle session and with 1000 sessions, measured in a child process (heap + external after
 *   GC, and RSS) so the clients' memory is not counted.
 *
 * Sizes: `BENCH_WS_RTT` (round trips per session at 1 session, default 2000), `BENCH_WS_FRAMES` (W2, default 20000),
 * `BENCH_WS_SESSIONS` (W3, default 1000). Loopback only; every phase is bounded.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { WebSocket, WebSocketServer } from 'ws'
import { Frames, type Frame, type Processor } from '../lib/index.js'
import { protobufSerializer } from '../lib/wire/protobuf.js'
import { connect, serve, type FrameConnection, type WebSocketPipelineServer } from '../lib/websocket/index.js'
import { formatTable, timeSideBySide, type BenchRow } from './harness.js'

const RTT = Number(process.env['BENCH_WS_RTT'] ?? 2000)
const FRAMES = Number(process.env['BENCH_WS_FRAMES'] ?? 20000)
const SESSIONS = Number(process.env['BENCH_WS_SESSIONS'] ?? 1000)
const CONCURRENT = 200

const pb = protobufSerializer()
const passThrough: Processor = async function* passThrough(source) {
  yield* source
}

/** The baseline: a bare `ws` server that decodes and re-encodes every message, as the transport does. */
async function bareEcho(): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  wss.on('connection', (ws) => {
    ws.on('message', (data) => ws.send(pb.serialize(pb.deserialize(data as Buffer))))
  })
  const { port } = wss.address() as { port: number }
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
}

async function transport(): Promise<WebSocketPipelineServer> {
  return serve({ session: () => passThrough, maxSessions: SESSIONS + 100 })
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0

/** A raw client: sends one encoded frame, waits for the answer and decodes it. */
interface RawClient {
  roundTrips(n: number, frame: Frame, times: number[]): Promise<void>
  close(): void
}

async function rawClient(url: string): Promise<RawClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  let wake: (() => void) | undefined
  ws.on('message', (data) => {
    pb.deserialize(data as Buffer)
    wake?.()
  })
  return {
    async roundTrips(n, frame, times) {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now()
        await new Promise<void>((resolve) => {
          wake = resolve
          ws.send(pb.serialize(frame))
        })
        times.push(performance.now() - t0)
      }
    },
    close: () => ws.close(),
  }
}

/** A transport client: round trips through the session's task. */
async function transportClient(url: string): Promise<RawClient> {
  const conn: FrameConnection = await connect(url, { serializer: pb })
  const source = conn.source[Symbol.asyncIterator]()
  return {
    async roundTrips(n, frame, times) {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now()
        await conn.send(frame)
        await source.next()
        times.push(performance.now() - t0)
      }
    },
    close: () => void conn.close(),
  }
}

async function roundTrips(sessions: number, perSession: number): Promise<{ transport: number[]; bare: number[]; transportMs: number; bareMs: number }> {
  const frame = Frames.text('ping')
  const server = await transport()
  const bare = await bareEcho()
  const t: number[] = []
  const b: number[] = []
  const bareClients: RawClient[] = []
  const transportClients: RawClient[] = []
  try {
    for (let i = 0; i < sessions; i++) {
      bareClients.push(await rawClient(bare.url))
      transportClients.push(await transportClient(server.url))
    }
    // Warm-up
    await bareClients[0]?.roundTrips(200, frame, [])
    await transportClients[0]?.roundTrips(200, frame, [])
    // Alternate rounds, so that load from elsewhere on the machine hits both alike.
    const ROUNDS = 4
    const each = Math.max(1, Math.round(perSession / ROUNDS))
    let bareMs = 0
    let transportMs = 0
    for (let round = 0; round < ROUNDS; round++) {
      let t0 = performance.now()
      await Promise.all(bareClients.map((c) => c.roundTrips(each, frame, b)))
      bareMs += performance.now() - t0
      t0 = performance.now()
      await Promise.all(transportClients.map((c) => c.roundTrips(each, frame, t)))
      transportMs += performance.now() - t0
    }
    t.sort((x, y) => x - y)
    b.sort((x, y) => x - y)
    return { transport: t, bare: b, transportMs, bareMs }
  } finally {
    for (const c of [...bareClients, ...transportClients]) c.close()
    await server.close({ drainTimeoutMs: 0 })
    await bare.close()
  }
}

const us = (ms: number): string => `${Math.round(ms * 1000)} µs`

async function benchRoundTrips(): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  for (const sessions of [1, CONCURRENT]) {
    const perSession = sessions === 1 ? RTT : Math.max(20, Math.round(RTT / 40))
    const r = await roundTrips(sessions, perSession)
    const n = r.transport.length
    const label = `${sessions} session${sessions === 1 ? '' : 's'}`
    rows.push({ bench: 'W1', variant: `bare ws echo, ${label}`, frames: n, ms: r.bareMs, note: `round trip p50 ${us(percentile(r.bare, 0.5))} / p99 ${us(percentile(r.bare, 0.99))}` })
    rows.push({
      bench: 'W1',
      variant: `apipeline-ts/websocket, ${label}`,
      frames: n,
      ms: r.transportMs,
      baseline: `bare ws echo, ${label}`,
      note: `round trip p50 ${us(percentile(r.transport, 0.5))} / p99 ${us(percentile(r.transport, 0.99))}`,
    })
  }
  return rows
}

/** Streams `FRAMES` audio frames through one connection and reads them all back. */
async function benchThroughput(): Promise<BenchRow[]> {
  const audio = Frames.audioRaw({ audio: new Uint8Array(640).fill(3) })
  const server = await transport()
  const bare = await bareEcho()
  const conn = await connect(server.url, { serializer: pb })
  const source = conn.source[Symbol.asyncIterator]()
  const raw = new WebSocket(bare.url, { perMessageDeflate: false })
  await new Promise<void>((resolve) => raw.once('open', () => resolve()))
  let rawGot = 0
  let rawDone: (() => void) | undefined
  raw.on('message', (data) => {
    pb.deserialize(data as Buffer)
    if (++rawGot === FRAMES) rawDone?.()
  })
  try {
    const times = await timeSideBySide(
      {
        bare: async () => {
          rawGot = 0
          const done = new Promise<void>((resolve) => {
            rawDone = resolve
          })
          for (let i = 0; i < FRAMES; i++) {
            raw.send(pb.serialize(audio))
            // The same send-side backpressure the client applies.
            if (raw.bufferedAmount > 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 1))
          }
          await done
        },
        transport: async () => {
          const sending = (async () => {
            for (let i = 0; i < FRAMES; i++) await conn.send(audio)
          })()
          for (let got = 0; got < FRAMES; got++) await source.next()
          await sending
        },
      },
      3,
    )
    const mb = (ms: number): string => `${((FRAMES * 640 * 2) / 1e6 / (ms / 1000)).toFixed(1)} MB/s of audio both ways`
    return [
      { bench: 'W2', variant: 'bare ws echo, 640-byte audio', frames: FRAMES, ms: times['bare'] as number, note: mb(times['bare'] as number) },
      {
        bench: 'W2',
        variant: 'apipeline-ts/websocket, 640-byte audio',
        frames: FRAMES,
        ms: times['transport'] as number,
        baseline: 'bare ws echo, 640-byte audio',
        note: `${mb(times['transport'] as number)}; target <= 1.5x`,
      },
    ]
  } finally {
    raw.close()
    await conn.close()
    await server.close({ drainTimeoutMs: 0 })
    await bare.close()
  }
}

interface MemoryReport {
  readonly sessions: number
  readonly heap: number
  readonly rss: number
}

/** W3: the server in a child process; this process opens the connections. */
async function benchMemory(): Promise<BenchRow[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), '--memory-child'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })
  const waiting: ((line: string) => void)[] = []
  lines.on('line', (line) => waiting.shift()?.(line))
  const ask = (command: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`memory child: no answer to ${command}`)), 60_000)
      waiting.push((line) => {
        clearTimeout(timer)
        resolve(line)
      })
      if (command !== '') child.stdin.write(`${command}\n`)
    })
  const clients: WebSocket[] = []
  try {
    const url = await ask('')
    const measure = async (): Promise<MemoryReport> => JSON.parse(await ask('measure')) as MemoryReport
    const before = await measure()
    const t0 = performance.now()
    for (let i = 0; i < SESSIONS; i += 50) {
      const batch = Array.from({ length: Math.min(50, SESSIONS - i) }, () => new WebSocket(url, { perMessageDeflate: false }))
      await Promise.all(batch.map((ws) => new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve())
        ws.once('error', reject)
      })))
      clients.push(...batch)
    }
    const openMs = performance.now() - t0
    let after = await measure()
    for (let tries = 0; after.sessions < SESSIONS && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      after = await measure()
    }
    const perSession = (after.heap - before.heap) / SESSIONS
    const perSessionRss = (after.rss - before.rss) / SESSIONS
    const kb = (b: number): string => `${(b / 1024).toFixed(1)} KB`
    const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`
    return [
      {
        bench: 'W3',
        variant: `idle sessions (${after.sessions})`,
        frames: SESSIONS,
        ms: openMs,
        note: `per session: heap+external ${kb(perSession)}, RSS ${kb(perSessionRss)} (target < 50 KB: ${perSessionRss < 50 * 1024 ? 'yes' : 'NO'}); with ${after.sessions} sessions: heap+external ${mb(after.heap)}, RSS ${mb(after.rss)} (0 sessions: ${mb(before.heap)}, ${mb(before.rss)})`,
      },
    ]
  } finally {
    for (const ws of clients) ws.terminate()
    child.stdin.end()
    await new Promise((resolve) => child.once('close', resolve))
  }
}

/** The memory child: a server; answers "measure" with its memory after GC. */
async function memoryChild(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  const server = await serve({ session: () => passThrough, maxSessions: SESSIONS + 100 })
  console.log(server.url)
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    if (line !== 'measure') continue
    for (let i = 0; i < 3; i++) {
      gc?.()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const m = process.memoryUsage()
    console.log(JSON.stringify({ sessions: server.sessions.size, heap: m.heapUsed + m.external, rss: m.rss } satisfies MemoryReport))
  }
  await server.close({ drainTimeoutMs: 0 })
}

/** W1–W3. */
export async function bench(): Promise<BenchRow[]> {
  return [...(await benchRoundTrips()), ...(await benchThroughput()), ...(await benchMemory())]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--memory-child')) await memoryChild()
  else {
    // `npx tsx bench/websocket.ts W2` runs one part.
    const only = new Set(process.argv.slice(2).map((a) => a.toUpperCase()))
    const parts: Record<string, () => Promise<BenchRow[]>> = { W1: benchRoundTrips, W2: benchThroughput, W3: benchMemory }
    const rows: BenchRow[] = []
    for (const [id, fn] of Object.entries(parts)) if (only.size === 0 || only.has(id)) rows.push(...(await fn()))
    console.log(formatTable(rows))
  }
}
