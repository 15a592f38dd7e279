/**
 * `apipeline-ts/websocket`: pipelines served over WebSocket. `serve()` (Node, on the `ws` package) runs one
 * `PipelineTask` per connection; `connect()` and `remote()` are the client, as an it-* duplex and as a processor.
 * In Node the client uses the `ws` package's `WebSocket` unless given another; browsers get the client-only module
 * (`browser` export condition) on the global `WebSocket`.
 *
 * @example
 * ```ts
 * import { Frames, map, run } from 'apipeline-ts'
 * import { serve, remote } from 'apipeline-ts/websocket'
 *
 * const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
 * const server = await serve({ port: 8080, session: () => upper })
 * for await (const frame of run(remote(server.url), [Frames.text('hi')])) console.log(Frames.format(frame))
 * await server.close()
 * ```
 * @module
 */
import { WebSocket as NodeWebSocket } from 'ws'
import type { Processor } from '../core/processor.js'
import { connect as connectWith, type ConnectOptions, type FrameConnection } from './client.js'
import { remote as remoteWith, type RemoteOptions } from './remote.js'
import type { WebSocketConstructor } from './socket-like.js'

const nodeWebSocket = NodeWebSocket as unknown as WebSocketConstructor

/**
 * Opens a connection to a served pipeline (see the browser client's `connect`); in Node the `ws` package's
 * `WebSocket` is used unless `options.WebSocket` is given.
 * @example
 * ```ts
 * const server = await serve({ port: 0, session: () => bot })
 * const conn = await connect(server.url)
 * void conn.sink([Frames.text('hello')])
 * for await (const frame of conn.source) console.log(Frames.format(frame))
 * ```
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<FrameConnection> {
  return connectWith(url, { ...options, WebSocket: options.WebSocket ?? nodeWebSocket })
}

/**
 * A processor that runs its frames through a served pipeline (see the browser client's `remote`); in Node the
 * `ws` package's `WebSocket` is used unless `options.WebSocket` is given.
 * @example
 * ```ts
 * const voiceBot = pipeline(stt, remote('ws://127.0.0.1:8080'), tts)
 * ```
 */
export function remote(url: string | URL, options: RemoteOptions = {}): Processor {
  return remoteWith(url, { ...options, WebSocket: options.WebSocket ?? nodeWebSocket })
}

export type { CloseInfo, ConnectOptions, FrameConnection } from './client.js'
export type { RemoteOptions } from './remote.js'
export { CloseCode } from './close-codes.js'
export { WebSocketClosedError } from './errors.js'
export type { WebSocketConstructor, WebSocketLike, MessageEventLike, CloseEventLike } from './socket-like.js'
export { serve, type ServeOptions, type WebSocketPipelineServer } from './server.js'
export { WebSocketSession, type SessionFactory, type SessionInfo, type SessionResult, type SessionSpec, type SessionStats, type SlowClientPolicy } from './session.js'
