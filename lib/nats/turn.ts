/**
 * What the session links of one connection send in one event-loop turn leaves together.
 *
 * The client writes to the socket once per microtask in which something was published, and each write costs far more
 * than the messages in it (a system call, and a wake-up of the server that reads it). So on a quiet connection the
 * first message published in a turn leaves at once (no added latency for a lone frame), and every later one waits for
 * the end of the turn: then each link sends what it holds (as batches) one after the other in one synchronous run,
 * which the client writes to the socket in one piece. While the connection streams (the previous turn ended with
 * messages held), the first message waits too: one write per connection and turn however many sessions sent
 * something, instead of two.
 * @module
 */
import type { NatsConnection } from '@nats-io/transport-node'

/**
 * The turn of one connection.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const turn = turnOf(nc)
 * const bytes = new Uint8Array([1, 2, 3])
 * if (turn.first()) nc.publish('peer', bytes)
 * else turn.later(() => nc.publish('peer', bytes))
 * ```
 */
export class ConnectionTurn {
  private scheduled = false
  private waiting: (() => void)[] = []

  /**
   * True for the first message of the turn on a quiet connection (it may be published at once), false otherwise:
   * the caller then holds its message and registers with {@link later}.
   */
  first(): boolean {
    if (this.scheduled) return false
    this.schedule()
    return true
  }

  /** Calls `flush` at the end of this turn, with those of the other links. */
  later(flush: () => void): void {
    this.waiting.push(flush)
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.run)
  }

  private readonly run = (): void => {
    this.scheduled = false
    const waiting = this.waiting
    this.waiting = []
    // Messages were held: the connection streams, so the next turn holds its first message too; a turn that goes by
    // without any makes the connection quiet again.
    if (waiting.length > 0) this.schedule()
    for (const flush of waiting) {
      try {
        flush()
      } catch (err) {
        // One link's failure (thrown by its owner) surfaces as it would from a callback of its own; the other links
        // still send what they hold.
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }
}

const turns = new WeakMap<NatsConnection, ConnectionTurn>()

/**
 * The turn of `nc` (one per connection, shared by all its links).
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * turnOf(nc).later(() => nc.publish('peer', new Uint8Array([1])))
 * ```
 */
export function turnOf(nc: NatsConnection): ConnectionTurn {
  let turn = turns.get(nc)
  if (turn === undefined) {
    turn = new ConnectionTurn()
    turns.set(nc, turn)
  }
  return turn
}
