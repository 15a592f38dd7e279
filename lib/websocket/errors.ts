/**
 * The typed error of the WebSocket client.
 * @module
 */

/**
 * The connection closed abnormally (any code other than 1000 and 1001), or could not be opened (`code` 1006).
 * The client's `source` ends with this error; `code` and `reason` are the close frame's (see {@link CloseCode}).
 * @example
 * ```ts
 * import { CloseCode, connect, WebSocketClosedError } from 'apipeline-ts/websocket'
 *
 * const conn = await connect('ws://127.0.0.1:8080')
 * try {
 *   for await (const frame of conn.source) console.log(Frames.format(frame))
 * } catch (err) {
 *   if (err instanceof WebSocketClosedError && err.code === CloseCode.tryAgainLater) console.log('server full, retry later')
 * }
 * ```
 */
export class WebSocketClosedError extends Error {
  override readonly name = 'WebSocketClosedError'
  /** The close code (1006 when the connection dropped or never opened). */
  readonly code: number
  /** The close reason sent by the peer, if any. */
  readonly reason: string
  constructor(code: number, reason: string, options?: { cause?: unknown }) {
    super(`WebSocket closed with code ${code}${reason === '' ? '' : `: ${reason}`}`, options)
    this.code = code
    this.reason = reason
  }
}
