/**
 * The WebSocket close codes the transport uses, and what each one means.
 * @module
 */
import type { TaskStatus } from '../core/task.js'

/**
 * Close codes sent by the server (and understood by the client), all standard RFC 6455 / IANA codes:
 *
 * | code | name | when |
 * |---|---|---|
 * | 1000 | `normal` | the session's task ended (`ended`, `stopped` or `cancelled`; the reason says which), or the client closed |
 * | 1001 | `goingAway` | `server.close()`: the server is shutting down |
 * | 1006 | (abnormal) | never sent; seen when the peer vanished without a close frame (also after a heartbeat timeout) |
 * | 1007 | `invalidPayload` | more messages that do not decode than `maxDecodeErrors` allows |
 * | 1008 | `policy` | a slow client with `slowClient: 'close'` |
 * | 1009 | `tooBig` | a message larger than `maxPayload` (sent by `ws` itself) |
 * | 1011 | `internalError` | the session's task errored, or its factory threw |
 * | 1013 | `tryAgainLater` | `maxSessions` reached: the connection is refused right after the upgrade |
 *
 * Authentication and origin failures are refused before the upgrade with HTTP 401 and 403 (no WebSocket exists yet).
 *
 * @example
 * ```ts
 * import { CloseCode, connect } from 'apipeline-ts/websocket'
 *
 * const conn = await connect('ws://127.0.0.1:8080')
 * const { code } = await conn.closed
 * if (code === CloseCode.tryAgainLater) console.log('server full, retry later')
 * ```
 */
export const CloseCode = Object.freeze({
  normal: 1000,
  goingAway: 1001,
  abnormal: 1006,
  invalidPayload: 1007,
  policy: 1008,
  tooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const)

/**
 * The close code a session sends when its task finished with `status`.
 * @example
 * ```ts
 * closeCodeFor('ended') // 1000
 * closeCodeFor('errored') // 1011
 * ```
 */
export function closeCodeFor(status: TaskStatus): number {
  return status === 'errored' ? CloseCode.internalError : CloseCode.normal
}

/**
 * Cuts `reason` to fit a close frame: at most 123 bytes of UTF-8 (a close frame's payload is at most 125 bytes, 2 of
 * them the code), without splitting a character.
 * @example
 * ```ts
 * import { WebSocket } from 'ws'
 *
 * const ws = new WebSocket('ws://127.0.0.1:8080')
 * const error = new Error('the model went away')
 * ws.close(1011, closeReason(`errored: ${error.message}`))
 * ```
 */
export function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason)
  if (bytes.length <= 123) return reason
  let cut = 120
  // Do not split a UTF-8 sequence: back up to a lead byte.
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut--
  return `${new TextDecoder().decode(bytes.subarray(0, cut))}...`
}
