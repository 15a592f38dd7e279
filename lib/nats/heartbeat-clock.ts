/**
 * One heartbeat timer per connection and period, shared by every session link on it: a process with many sessions
 * wakes up once per period for all of them instead of once per session (each wake-up of an idle process costs far
 * more than the checks it runs), and the heartbeats the links send in that tick leave in one socket write (see
 * `turn.ts`).
 * @module
 */
import { PerOwner } from '../internal/per-owner.js'

/** What the clock calls: a link's heartbeat check. */
export interface Ticking {
  tick(): void
}

interface Clock {
  readonly timer: ReturnType<typeof setInterval>
  readonly members: Set<Ticking>
}

const clocks = new PerOwner<object, number, Clock>()

/**
 * Calls `member.tick()` every `periodMs` ms, on the timer shared by every member of `owner` (a connection) with the
 * same period, until the returned function is called.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const stop = everyPeriod(nc, 500, { tick: () => console.log('check the peer') })
 * stop()
 * ```
 */
export function everyPeriod(owner: object, periodMs: number, member: Ticking): () => void {
  const byPeriod = clocks.of(owner)
  let clock = byPeriod.get(periodMs)
  if (clock === undefined) {
    const members = new Set<Ticking>()
    const timer = setInterval(() => {
      for (const m of [...members]) {
        try {
          m.tick()
        } catch (err) {
          // One member's failure surfaces as from a timer of its own; the others still tick.
          queueMicrotask(() => {
            throw err
          })
        }
      }
    }, periodMs)
    clock = { timer, members }
    byPeriod.set(periodMs, clock)
  }
  const { members } = clock
  members.add(member)
  return () => {
    if (!members.delete(member) || members.size > 0) return
    const current = byPeriod.get(periodMs)
    if (current?.members === members) {
      clearInterval(current.timer)
      byPeriod.delete(periodMs)
    }
  }
}
