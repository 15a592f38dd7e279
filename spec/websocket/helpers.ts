/** Shared helpers of the WebSocket specs: servers on a free loopback port, raw `ws` clients, bounded waits. */
import { WebSocket } from 'ws'
import { Frames, type Frame, type Processor } from '../../lib/index.js'
import { serve, type ServeOptions, type WebSocketPipelineServer, type WebSocketSession } from '../../lib/websocket/index.js'

/** Servers started by a spec, closed by `closeAll()` in `afterEach`. */
const servers: WebSocketPipelineServer[] = []

/** Starts a server on 127.0.0.1 with a free port; `sessions` collects every session. */
export async function startServer(options: ServeOptions): Promise<{ server: WebSocketPipelineServer; sessions: WebSocketSession[] }> {
  const sessions: WebSocketSession[] = []
  const server = await serve({
    host: '127.0.0.1',
    port: 0,
    ...options,
    onSession: (s) => {
      sessions.push(s)
      options.onSession?.(s)
    },
  })
  servers.push(server)
  return { server, sessions }
}

/** Closes every server started with `startServer` (quickly: no drain). */
export async function closeAll(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close({ drainTimeoutMs: 0 })))
}

/** Polls `cond` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A raw `ws` client, open. */
export async function rawClient(url: string, protocols?: string | string[], options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  const ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  ws.on('error', () => {})
  return ws
}

/** Resolves with the close code and reason of a raw client. */
export function closedWith(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve({ code: 1006, reason: '' })
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
}

/** Echo: every frame passes through. */
export const echo: Processor = async function* echo(source) {
  yield* source
}

/** A pass-through stage that records the frames it saw and whether its `finally` ran. */
export function probe(log: { seen: Frame[]; finalized: number }): Processor {
  return async function* probeStage(source) {
    try {
      for await (const f of source) {
        log.seen.push(f)
        yield f
      }
    } finally {
      log.finalized++
    }
  }
}

/** Text of text frames. */
export const texts = (frames: readonly Frame[]): string[] => frames.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))

/** `n` text frames "0" … "n-1". */
export const textFrames = (n: number): Frame[] => Array.from({ length: n }, (_, i) => Frames.text(String(i)))

/** True outside CI: a missing tool may skip a spec there; in CI it must fail. */
export const inCI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false'
