/**
 * A worker process: serves the bot on the NATS subject `bot` (a queue group, so sessions spread over every worker).
 * SIGTERM or SIGINT drains it: no new sessions, the running ones finish, then it exits.
 *
 * Run: npx tsx examples/distributed/worker.ts [nats-servers, comma-separated; default nats://127.0.0.1:4222]
 */
import { connect } from '@nats-io/transport-node'
import { serve } from '../../lib/nats/index.js'
import { bot } from './bot.js'

const servers = (process.argv[2] ?? 'nats://127.0.0.1:4222').split(',')
const nc = await connect({ servers, name: `bot-worker-${process.pid}`, maxReconnectAttempts: -1 })
const service = serve(nc, {
  subject: 'bot',
  processor: (session) => {
    console.log(`[worker ${process.pid}] session ${session.id} from ${session.name}`)
    return bot()
  },
  maxSessions: 100,
  onSessionEnd: (session, result) => console.log(`[worker ${process.pid}] session ${session.id} ${result.status}`),
  onError: (err) => console.warn(`[worker ${process.pid}] ${err.name}: ${err.message}`),
})
console.log(`[worker ${process.pid}] serving "bot" on ${nc.getServer()} (service ${service.id})`)

const shutdown = (): void => {
  console.log(`[worker ${process.pid}] draining ${service.sessions} session(s)`)
  void service
    .drain({ timeoutMs: 10_000 })
    .then(() => nc.drain())
    .then(() => process.exit(0))
}
process.once('SIGTERM', shutdown)
process.once('SIGINT', shutdown)
