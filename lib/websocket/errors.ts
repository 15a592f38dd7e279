/**
 * The typed error of the WebSocket client.
 * @module
 */

/**
 * The connection closed abnormally (any code other than 1000 and 1001), or could not be opened (`code` 1006).
 * The client's `source` ends with this error; `code` and `reason` are the close frame's (see {@link CloseCode}).
 * @example
 * ```ts
 * try {
 *   for await (const frame of conn.source) show(frame)
 * } catch (err) {
 *   if (err instanceof WebSocketClosedError && err.code === CloseCode.tryAgainLater) retryLater()
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
