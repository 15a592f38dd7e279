/**
 * `serve()`: a pipeline served over WebSocket (Node, on the `ws` package). One connection is one session is one
 * `PipelineTask`.
 * @module
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Frame } from '../frames/types.js'
import { jsonSerializer } from '../wire/json.js'
import { protobufSerializer } from '../wire/protobuf.js'
import type { FrameSerializer } from '../wire/serializer.js'
import { CloseCode } from './close-codes.js'
import { SUBPROTOCOL_PREFIX } from './protocol.js'
import { WebSocketSession, type SessionFactory, type SessionResult, type SessionSettings, type SlowClientPolicy } from './session.js'

/** Options of {@link serve}. Every limit has a default. */
export interface ServeOptions {
  /** Builds each session's pipeline: `(info) => processor` or `{ processor, params }` (may be async). */
  readonly session: SessionFactory
  /** Port to listen on (0 picks a free one). Default 0. Ignored with `server`. */
  readonly port?: number
  /** Address to listen on. Default `'127.0.0.1'`. Ignored with `server`. */
  readonly host?: string
  /** Serve on an existing HTTP server's upgrade requests instead of listening (the server is not closed by `close()`). */
  readonly server?: Server
  /** Only upgrade requests for this path (e.g. `'/ws'`). Default: any path. */
  readonly path?: string
  /**
   * Formats offered. The first is used when the client asks for no subprotocol (Python clients); others are chosen
   * with the subprotocol `apipeline.<format>`. Default `[protobufSerializer(), jsonSerializer()]`.
   */
  readonly serializers?: readonly FrameSerializer[]
  /** Largest message accepted, in bytes; a larger one closes the connection with 1009. Default 1 MiB. */
  readonly maxPayload?: number
  /** Sessions at once; more connections are closed with 1013 right after the upgrade. Default 1024. */
  readonly maxSessions?: number
  /**
   * Called with each upgrade request before it is accepted; `false` (or a throw / rejection) refuses it with HTTP
   * 401. Anything else is accepted and handed to the factory as `info.auth`.
   */
  readonly authenticate?: (request: IncomingMessage) => unknown
  /**
   * Allowed `Origin` values (exact strings) or a predicate; a browser request from another origin is refused with
   * HTTP 403. Requests without an `Origin` header (non-browser clients) pass. Default: any origin.
   */
  readonly origins?: readonly string[] | ((origin: string) => boolean)
  /** How often the server pings each client. Default 15000 ms. */
  readonly heartbeatIntervalMs?: number
  /**
   * A client from which nothing (no message, no pong) arrived for this long is cut off, and its task cancelled.
   * Detected within `idleTimeoutMs + heartbeatIntervalMs`. Pongs travel behind data, so a client that reads nothing
   * for this long is cut off too; a client whose input the session is not reading (its queue is full) is not.
   * Default 30000 ms.
   */
  readonly idleTimeoutMs?: number
  /** Messages that do not decode are reported to the session; one more than this closes the connection with 1007. Default 10. */
  readonly maxDecodeErrors?: number
  /** Bytes waiting in a socket above which the session applies `slowClient`. Default 1 MiB. */
  readonly highWaterMark?: number
  /**
   * A client reading slower than its pipeline writes: `'wait'` stops reading the task's output (which slows the
   * pipeline, whose full input queue stops reading the socket), `'drop'` drops data frames (reported once per burst
   * as a non-fatal error and to `onDrop`; other frames wait), `'close'` closes the connection with 1008. Default `'wait'`.
   */
  readonly slowClient?: SlowClientPolicy
  /** `close()`: time sessions get to drain after `end` before they are cancelled. Default 5000 ms. */
  readonly drainTimeoutMs?: number
  /** Called with every new session. */
  readonly onSession?: (session: WebSocketSession) => void
  /** Called with transport errors: undecodable messages, socket errors, failed factories and `authenticate` hooks. */
  readonly onError?: (error: Error, session?: WebSocketSession) => void
  /** Called with every data frame dropped for a slow client. */
  readonly onDrop?: (frame: Frame, session: WebSocketSession) => void
  /**
   * When a frame counts as delivered for a session's interruption report: `'written'` (default) once it was written to
   * the socket; `'played'` once the client reported it played (`FrameConnection.played(frame)`, a `playedFrames`
   * acknowledgement — JSON only): frames written but not acknowledged before the report count as dropped.
   */
  readonly delivery?: 'written' | 'played'
}

/** A running server; see {@link serve}. */
export interface WebSocketPipelineServer {
  /** `ws://host:port` (plus `path`), to give to `connect` or `remote`. */
  readonly url: string
  readonly port: number
  /** Sessions currently open. */
  readonly sessions: ReadonlySet<WebSocketSession>
  /**
   * Stops accepting connections and ends every session: `end` drains each task for up to `drainTimeoutMs`, then it
   * is cancelled; connections close with 1001. Resolves with the results of the sessions that were open, once all
   * are closed.
   */
  close(options?: { readonly drainTimeoutMs?: number }): Promise<SessionResult[]>
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new TypeError(`serve(options).${name} must be an integer >= ${min}`)
  return value
}

function refuse(socket: Duplex, status: number, text: string): void {
  if (!socket.destroyed) {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
  }
  socket.destroy()
}

/**
 * Serves a pipeline over WebSocket. Each connection becomes one session: the factory builds its processor, a
 * `PipelineTask` runs it, received messages are decoded into the task (an `end` frame drains it, `cancel` cancels
 * it, an interruption request interrupts it) and its output is encoded back. When the task finishes the connection
 * closes (1000, or 1011 if it errored); when the client goes away the task is cancelled. See `CloseCode` for the
 * codes, and the options for the limits.
 *
 * @example
 * ```ts
 * import { Frames, map } from 'apipeline-ts'
 * import { serve } from 'apipeline-ts/websocket'
 *
 * const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
 * const server = await serve({ port: 8080, session: () => upper })
 * console.log(`listening on ${server.url}`)
 * // later: await server.close()
 * ```
 */
export async function serve(options: ServeOptions): Promise<WebSocketPipelineServer> {
  if (options === null || typeof options !== 'object') throw new TypeError('serve(options) must be an object')
  if (typeof options.session !== 'function') throw new TypeError('serve(options).session must be a function returning a processor')
  const serializers = options.serializers ?? [protobufSerializer(), jsonSerializer()]
  if (serializers.length === 0) throw new TypeError('serve(options).serializers must not be empty')
  const defaultSerializer = serializers[0] as FrameSerializer
  const maxPayload = positiveInt('maxPayload', options.maxPayload, 1024 * 1024)
  const maxSessions = positiveInt('maxSessions', options.maxSessions, 1024)
  const heartbeatIntervalMs = positiveInt('heartbeatIntervalMs', options.heartbeatIntervalMs, 15000)
  const idleTimeoutMs = positiveInt('idleTimeoutMs', options.idleTimeoutMs, 30000)
  const maxDecodeErrors = positiveInt('maxDecodeErrors', options.maxDecodeErrors, 10, 0)
  const highWaterMark = positiveInt('highWaterMark', options.highWaterMark, 1024 * 1024)
  const drainTimeoutMs = positiveInt('drainTimeoutMs', options.drainTimeoutMs, 5000, 0)
  const slowClient = options.slowClient ?? 'wait'
  if (slowClient !== 'wait' && slowClient !== 'drop' && slowClient !== 'close') {
    throw new TypeError("serve(options).slowClient must be 'wait', 'drop' or 'close'")
  }
  const origins = options.origins
  const onError = (error: Error, session?: WebSocketSession): void => {
    try {
      options.onError?.(error, session)
    } catch {
      // A throwing error hook must not take the server down.
    }
  }
  const originAllowed = (origin: string | undefined): boolean => {
    if (origin === undefined || origins === undefined) return true
    if (typeof origins !== 'function') return origins.includes(origin)
    try {
      return origins(origin) === true
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)))
      return false
    }
  }
  const delivery = options.delivery ?? 'written'
  if (delivery !== 'written' && delivery !== 'played') throw new TypeError("serve(options).delivery must be 'written' or 'played'")
  const onDrop = options.onDrop
  const settings: SessionSettings = {
    delivery,
    factory: options.session,
    maxDecodeErrors,
    highWaterMark,
    slowClient,
    onError,
    onDrop:
      onDrop === undefined
        ? undefined
        : (frame, session) => {
            try {
              onDrop(frame, session)
            } catch (err) {
              onError(err instanceof Error ? err : new Error(String(err)), session)
            }
          },
  }

  const bySubprotocol = new Map(serializers.map((s) => [`${SUBPROTOCOL_PREFIX}${s.format}`, s]))
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => {
      for (const p of protocols) if (bySubprotocol.has(p)) return p
      return false
    },
  })
  const sessions = new Set<WebSocketSession>()
  let nextId = 1
  let closing: Promise<SessionResult[]> | undefined

  const http = options.server ?? createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('this endpoint speaks WebSocket')
  })
  const ownServer = options.server === undefined

  const onConnection = (ws: WebSocket, request: IncomingMessage, auth: unknown): void => {
    if (closing !== undefined || sessions.size >= maxSessions) ws.on('error', (err) => onError(err))
    if (closing !== undefined) {
      ws.close(CloseCode.goingAway, 'server closing')
      return
    }
    if (sessions.size >= maxSessions) {
      ws.close(CloseCode.tryAgainLater, `too many sessions (${maxSessions})`)
      return
    }
    const serializer = bySubprotocol.get(ws.protocol) ?? defaultSerializer
    const session = new WebSocketSession(
      { id: nextId++, request, url: request.url ?? '/', remoteAddress: request.socket.remoteAddress, format: serializer.format, auth },
      ws,
      serializer,
      settings,
    )
    sessions.add(session)
    void session.done.then(() => sessions.delete(session))
    try {
      options.onSession?.(session)
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)), session)
    }
    void session.start()
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (options.path !== undefined && new URL(request.url ?? '/', 'http://localhost').pathname !== options.path) {
      // On a shared server another handler may own this path.
      if (ownServer) refuse(socket, 404, 'Not Found')
      return
    }
    socket.on('error', (err) => onError(err))
    if (closing !== undefined) {
      refuse(socket, 503, 'Service Unavailable')
      return
    }
    if (!originAllowed(request.headers.origin)) {
      refuse(socket, 403, 'Forbidden')
      return
    }
    const accept = (auth: unknown): void => {
      if (auth === false) {
        refuse(socket, 401, 'Unauthorized')
        return
      }
      if (socket.destroyed) return
      wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, request, auth))
    }
    if (options.authenticate === undefined) {
      accept(true)
      return
    }
    let verdict: unknown
    try {
      verdict = options.authenticate(request)
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)))
      refuse(socket, 401, 'Unauthorized')
      return
    }
    if (typeof (verdict as PromiseLike<unknown> | null)?.then === 'function') {
      Promise.resolve(verdict).then(accept, (err: unknown) => {
        onError(err instanceof Error ? err : new Error(String(err)))
        refuse(socket, 401, 'Unauthorized')
      })
    } else accept(verdict)
  }
  http.on('upgrade', onUpgrade)

  const heartbeat = setInterval(() => {
    const now = Date.now()
    for (const s of sessions) s.heartbeat(now, idleTimeoutMs)
  }, heartbeatIntervalMs)
  heartbeat.unref?.()

  if (ownServer) {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        http.off('error', reject)
        resolve()
      })
    })
  }
  const address = http.address() as AddressInfo | null
  const port = address?.port ?? 0
  const host = address === null ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    url: `ws://${host}:${port}${options.path ?? ''}`,
    port,
    sessions,
    close(closeOptions = {}): Promise<SessionResult[]> {
      if (closing !== undefined) return closing
      const drainMs = positiveInt('drainTimeoutMs', closeOptions.drainTimeoutMs, drainTimeoutMs, 0)
      closing = (async () => {
        clearInterval(heartbeat)
        http.off('upgrade', onUpgrade)
        const stopped = ownServer ? new Promise<void>((resolve) => http.close(() => resolve())) : Promise.resolve()
        const all = await Promise.all([...sessions].map((s) => s.shutdown(drainMs)))
        wss.close()
        if (ownServer) http.closeAllConnections()
        await stopped
        return all
      })()
      return closing
    },
  }
}
