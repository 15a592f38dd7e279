/** Connections for the NATS specs. */
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node'

/** Connects to `servers` with fast reconnects (specs restart servers); `options` add to or override these. */
export function connectTo(servers: string | readonly string[], name = 'spec', options: ConnectionOptions = {}): Promise<NatsConnection> {
  return connect({
    servers: typeof servers === 'string' ? servers : [...servers],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
    noRandomize: true,
    ...options,
  })
}

/**
 * Starts watching `nc` for its next reconnect: the promise resolves with the server it reconnected to, or rejects
 * after `timeoutMs`. Call it before causing the disconnect.
 */
export function nextReconnect(nc: NatsConnection, timeoutMs = 10_000): Promise<string> {
  const statuses = nc.status()[Symbol.asyncIterator]()
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reconnect within ${timeoutMs} ms`)), timeoutMs)
  })
  const watch = (async (): Promise<string> => {
    for (;;) {
      const r = await statuses.next()
      if (r.done === true) throw new Error('the connection closed before it reconnected')
      if (r.value.type === 'reconnect') return r.value.server
    }
  })()
  watch.catch(() => {}) // settled by the race below; a late end of the iteration is not an unhandled rejection
  return Promise.race([watch, late]).finally(() => {
    clearTimeout(timer)
    void statuses.return?.()
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
