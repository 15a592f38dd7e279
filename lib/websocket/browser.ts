/**
 * `apipeline-ts/websocket` in browsers: the client only (`connect`, `remote`), on the global `WebSocket`. Bundlers
 * pick this module through the `browser` export condition; it imports no Node API and not the `ws` package.
 *
 * @example
 * ```ts
 * import { Frames } from 'apipeline-ts'
 * import { connect } from 'apipeline-ts/websocket'
 *
 * const conn = await connect(`ws://${location.host}/ws`)
 * void conn.sink([Frames.text('hello')])
 * for await (const frame of conn.source) if (frame.kind === 'data' && frame.type === 'text') console.log(frame.text)
 * ```
 * @module websocket/client
 */
export { connect, type CloseInfo, type ConnectOptions, type FrameConnection } from './client.js'
export { remote, type RemoteOptions } from './remote.js'
export { CloseCode } from './close-codes.js'
export { WebSocketClosedError } from './errors.js'
export type { WebSocketConstructor, WebSocketLike, MessageEventLike, CloseEventLike } from './socket-like.js'
