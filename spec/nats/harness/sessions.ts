/**
 * The fixture of the session specs: a nats-server of their own, a caller and a worker connection, and services on
 * fresh subjects, all closed after the suite.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll } from 'vitest'
import type { ProcessorFn, TaskResult } from '../../../lib/index.js'
import { serve, type NatsService, type ServeOptions, type SessionInfo } from '../../../lib/nats/index.js'
import { connectTo } from './connections.js'
import { startNats, type NatsNode } from './server.js'

/** What {@link natsSessions} gives a suite. */
export interface NatsSessions {
  /** The connection `remote()` uses (set once the suite's `beforeAll` ran). */
  readonly caller: NatsConnection
  /** The connection services run on. */
  readonly worker: NatsConnection
  /** Every service of the suite (closed after it); a service served by hand is pushed here too. */
  readonly services: NatsService[]
  /** Serves `processor` on a fresh subject; returns the subject, the ended sessions, the errors and the service. */
  serveFresh(
    processor: (session: SessionInfo) => ProcessorFn,
    options?: Partial<ServeOptions>,
  ): { subject: string; ended: { session: SessionInfo; result: TaskResult }[]; errors: Error[]; service: NatsService }
}

/** Registers the suite's `beforeAll`/`afterAll` (call it inside `describe`); subjects are named `<prefix>.s<n>`. */
export function natsSessions(prefix: string): NatsSessions {
  let node: NatsNode | undefined
  let caller: NatsConnection | undefined
  let worker: NatsConnection | undefined
  const services: NatsService[] = []
  let subjects = 0

  beforeAll(async () => {
    node = await startNats()
    caller = await connectTo(node.url, 'caller')
    worker = await connectTo(node.url, 'worker')
  })

  afterAll(async () => {
    await Promise.all(services.map((s) => s.close()))
    await caller?.close()
    await worker?.close()
    await node?.stop()
  })

  const connected = (nc: NatsConnection | undefined): NatsConnection => {
    if (nc === undefined) throw new Error('natsSessions: used before the suite started')
    return nc
  }

  return {
    get caller() {
      return connected(caller)
    },
    get worker() {
      return connected(worker)
    },
    services,
    serveFresh(processor, options = {}) {
      const subject = `${prefix}.s${subjects++}`
      const ended: { session: SessionInfo; result: TaskResult }[] = []
      const errors: Error[] = []
      const service = serve(connected(worker), {
        subject,
        processor,
        onSessionEnd: (session, result) => ended.push({ session, result }),
        onError: (err) => errors.push(err),
        ...options,
      })
      services.push(service)
      return { subject, ended, errors, service }
    },
  }
}
