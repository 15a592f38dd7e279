/**
 * `apipeline-ts/nats`: sessions and stages spread over processes and machines on NATS (core request/reply and
 * queue groups, `@nats-io/transport-node` v3). Workers `serve(nc, { subject, processor })`; callers use
 * `remote(nc, subject)` as a processor in any pipeline.
 *
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 * import { Frames, pipeline, run } from 'apipeline-ts'
 * import { remote, serve } from 'apipeline-ts/nats'
 *
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' })
 * const service = serve(nc, { subject: 'echo', processor: () => async function* (source) { yield* source } })
 * for await (const frame of run(pipeline(remote(nc, 'echo')), [Frames.text('hi')])) console.log(Frames.format(frame))
 * await service.close()
 * await nc.drain()
 * ```
 * @module
 */
export { remote, type RemoteOptions, type RemoteSessionInfo } from './remote.js'
export { serve, type NatsService, type ServeOptions } from './serve.js'
export type { SessionInfo } from './worker-session.js'
export {
  RemoteSessionError,
  NoWorkerError,
  WorkerLostError,
  CallerLostError,
  GapDetectedError,
  MalformedMessageError,
  type RemoteErrorCode,
  type NoWorkerReason,
  type WorkerLostReason,
} from './errors.js'
