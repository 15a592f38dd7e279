/**
 * The part of the WebSocket API the client uses: the browser's `WebSocket`, Node 22's global one and the `ws`
 * package's `WebSocket` all fit it.
 * @module
 */

/** A message event: `data` is a string (text message) or an `ArrayBuffer` (binary, with `binaryType = 'arraybuffer'`). */
export interface MessageEventLike {
  readonly data: unknown
}

/** A close event. */
export interface CloseEventLike {
  readonly code: number
  readonly reason: string
}

/**
 * A WebSocket as the client sees it. `pause()`/`resume()` exist on the `ws` package's socket only; when present,
 * the client stops reading the socket while its receive queue is full.
 */
export interface WebSocketLike {
  readonly readyState: number
  readonly bufferedAmount: number
  readonly protocol: string
  binaryType: string
  send(data: string | Uint8Array): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open' | 'error', listener: (event: unknown) => void): void
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void
  addEventListener(type: 'close', listener: (event: CloseEventLike) => void): void
  removeEventListener(type: 'open' | 'error', listener: (event: unknown) => void): void
  removeEventListener(type: 'message', listener: (event: MessageEventLike) => void): void
  removeEventListener(type: 'close', listener: (event: CloseEventLike) => void): void
  pause?(): void
  resume?(): void
}

/**
 * A WebSocket constructor: `globalThis.WebSocket` in browsers (and Node >= 22), `WebSocket` from `ws` in Node 20.
 * @example
 * ```ts
 * import { WebSocket } from 'ws'
 * import { connect } from 'apipeline-ts/websocket'
 *
 * const conn = await connect('ws://127.0.0.1:8080', { WebSocket })
 * ```
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/**
 * `WebSocket.OPEN`: the `readyState` of an open socket.
 * @example
 * ```ts
 * import { WebSocket } from 'ws'
 *
 * const ws = new WebSocket('ws://127.0.0.1:8080')
 * if (ws.readyState === OPEN) ws.send(bytes)
 * ```
 */
export const OPEN = 1
