/** Connections for the NATS specs. */
import { connect, type NatsConnection } from '@nats-io/transport-node'

/** Connects to `servers` with fast reconnects (specs restart servers). */
export function connectTo(servers: string | readonly string[], name = 'spec'): Promise<NatsConnection> {
  return connect({
    servers: typeof servers === 'string' ? servers : [...servers],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
    noRandomize: true,
  })
}

/** Polls `condition` every 10 ms until it holds; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Waits until a subscription on `b` receives what is published on `a` (routes between cluster nodes are up). */
export async function waitForRoute(a: NatsConnection, b: NatsConnection, timeoutMs = 10_000): Promise<void> {
  const subject = `route.check.${Math.random().toString(36).slice(2)}`
  let got = false
  const sub = b.subscribe(subject, {
    callback: () => {
      got = true
    },
  })
  await b.flush()
  const deadline = performance.now() + timeoutMs
  while (!got) {
    if (performance.now() > deadline) throw new Error('the cluster routes did not come up')
    a.publish(subject)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  sub.unsubscribe()
}
