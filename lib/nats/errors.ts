/**
 * The typed errors of a distributed session. Each has a stable `name` and `code` to test against; `fatal` decides
 * whether the caller's task ends (see `RemoteOptions.fatal`).
 * @module
 */

/**
 * What kind of failure a {@link RemoteSessionError} is.
 * @example
 * ```ts
 * const retryable = (code: RemoteErrorCode) => code === 'no-worker' || code === 'worker-lost'
 * ```
 */
export type RemoteErrorCode = 'no-worker' | 'worker-lost' | 'caller-lost' | 'gap' | 'malformed'

/**
 * Base class of every error of a remote session.
 * @example
 * ```ts
 * import { RemoteSessionError } from 'apipeline-ts/nats'
 *
 * const onError = (err: Error) => {
 *   if (err instanceof RemoteSessionError) console.warn(`session failed (${err.code}): ${err.message}`)
 * }
 * ```
 */
export class RemoteSessionError extends Error {
  override readonly name: string = 'RemoteSessionError'
  /** What kind of failure this is. */
  readonly code: RemoteErrorCode
  /** True when the caller's task should end as `'errored'` (the library's stage guard reads it). */
  fatal: boolean
  constructor(code: RemoteErrorCode, message: string, options: { fatal?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.fatal = options.fatal ?? true
  }
}

/**
 * Why no worker took a session.
 * @example
 * ```ts
 * const message = (reason: NoWorkerReason) => (reason === 'busy' ? 'all workers are full' : 'no worker available')
 * ```
 */
export type NoWorkerReason = 'no-responders' | 'busy' | 'timeout' | 'rejected'

/**
 * No worker took the session within `openTimeoutMs`: none serves the subject, all are at `maxSessions`, none
 * answered, or one refused the request (`reason`).
 * @example
 * ```ts
 * import { NoWorkerError } from 'apipeline-ts/nats'
 *
 * const isBusy = (err: unknown) => err instanceof NoWorkerError && err.reason === 'busy'
 * ```
 */
export class NoWorkerError extends RemoteSessionError {
  override readonly name = 'NoWorkerError'
  readonly subject: string
  readonly reason: NoWorkerReason
  constructor(subject: string, reason: NoWorkerReason, detail = '') {
    const why =
      reason === 'no-responders'
        ? 'no worker serves it'
        : reason === 'busy'
          ? 'every worker is at maxSessions'
          : reason === 'timeout'
            ? 'no worker answered'
            : 'the worker refused the session'
    super('no-worker', `no worker for subject "${subject}": ${why}${detail === '' ? '' : ` (${detail})`}`)
    this.subject = subject
    this.reason = reason
  }
}

/**
 * How a worker was lost.
 * @example
 * ```ts
 * const crashed = (reason: WorkerLostReason) => reason === 'heartbeat'
 * ```
 */
export type WorkerLostReason = 'heartbeat' | 'closed' | 'connection'

/**
 * The worker of a session stopped answering (no message within the heartbeat timeout: it died or the network
 * failed), closed the session without finishing it (`close()` on the worker), or the NATS connection was closed.
 * @example
 * ```ts
 * import { WorkerLostError } from 'apipeline-ts/nats'
 *
 * const died = (err: unknown) => err instanceof WorkerLostError && err.reason === 'heartbeat'
 * ```
 */
export class WorkerLostError extends RemoteSessionError {
  override readonly name = 'WorkerLostError'
  readonly reason: WorkerLostReason
  constructor(reason: WorkerLostReason, message: string, options: { cause?: unknown } = {}) {
    super('worker-lost', message, options)
    this.reason = reason
  }
}

/**
 * Reported on the worker (through `ServeOptions.onError`) when a caller stopped answering: its session was
 * cancelled and its stages finalized.
 * @example
 * ```ts
 * import { CallerLostError } from 'apipeline-ts/nats'
 *
 * const onError = (err: Error) => { if (err instanceof CallerLostError) console.warn('caller gone:', err.message) }
 * ```
 */
export class CallerLostError extends RemoteSessionError {
  override readonly name = 'CallerLostError'
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('caller-lost', message, options)
  }
}

/**
 * A message of the session arrived out of sequence: one was lost (or duplicated) on the way. The session fails —
 * frames are never silently skipped.
 * @example
 * ```ts
 * import { GapDetectedError } from 'apipeline-ts/nats'
 *
 * const describeGap = (err: GapDetectedError) => `expected #${err.expected}, got #${err.received}`
 * ```
 */
export class GapDetectedError extends RemoteSessionError {
  override readonly name = 'GapDetectedError'
  readonly expected: number
  readonly received: number
  constructor(expected: number, received: number, where: string) {
    super('gap', `${where}: message #${received} arrived where #${expected} was expected (a message was lost or repeated)`)
    this.expected = expected
    this.received = received
  }
}

/**
 * A message on a session subject (or an open request on a service subject) could not be read. One that is not a
 * session message at all is reported and ignored (the session goes on); a session message whose frame cannot be
 * decoded fails the session (a frame would be lost otherwise).
 * @example
 * ```ts
 * import { MalformedMessageError } from 'apipeline-ts/nats'
 *
 * const onError = (err: Error) => { if (err instanceof MalformedMessageError) console.warn(err.message) }
 * ```
 */
export class MalformedMessageError extends RemoteSessionError {
  override readonly name = 'MalformedMessageError'
  constructor(message: string, options: { cause?: unknown; fatal?: boolean } = {}) {
    super('malformed', message, options)
  }
}
