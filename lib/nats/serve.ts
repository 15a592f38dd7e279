/**
 * `serve(nc, options)`: a worker that runs a processor per remote session, in a NATS queue group.
 * @module
 */
import { nuid, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import type { ProcessorFn } from '../core/processor.js'
import type { TaskResult } from '../core/task.js'
import type { FrameSerializer } from '../wire/index.js'
import { MalformedMessageError } from './errors.js'
import { frameCodec, type FrameCodec } from './frame-codec.js'
import { decodeOpenRequest, encodeOpenReply, type OpenReply, type OpenRequest } from './handshake.js'
import { LOAD_REPORT_VERSION, directSubject, type LoadReport } from './load-report.js'
import { LoadReporter } from './load-reporter.js'
import { functionOption, intOption, subjectOption } from './options.js'
import { WorkerSession, type SessionHost, type SessionInfo } from './worker-session.js'

/**
 * Options of {@link serve}.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 * import { serve, type ServeOptions } from 'apipeline-ts/nats'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const options: ServeOptions = {
 *   subject: 'bot',
 *   processor: (session) => (session.start.allowInterruptions ? bot : pipeline(bot, nonEmpty)),
 *   maxSessions: 200,
 *   onError: (err, session) => console.warn(session?.id, err.message),
 * }
 * serve(nc, options)
 * ```
 */
export interface ServeOptions {
  /** The service subject callers name in `remote(nc, subject)`. */
  readonly subject: string
  /** Builds the processor of one session (called once per session, with its description). */
  readonly processor: (session: SessionInfo) => ProcessorFn<any, any>
  /** The queue group, used by callers when no worker reports its load (or with `placement: 'queue-group'`). Default `apipeline`. */
  readonly queue?: string
  /** Sessions this worker runs at once; beyond it, it stops taking new ones (they go to other workers). Default 1000. */
  readonly maxSessions?: number
  /** Input frames a session accepts from its caller before the caller must wait for credit. Default 128. */
  readonly window?: number
  /**
   * How often the worker publishes its load (sessions, input backlog, `maxSessions`, draining) for callers to place
   * sessions on the least busy worker, in ms; it also publishes on every change. Callers forget a worker that sent
   * nothing for 3 periods. Default 1000.
   */
  readonly loadReportMs?: number
  /** The binary format for the frames it carries (default protobuf); must match the callers'. */
  readonly serializer?: FrameSerializer
  /** How long a cancelled session waits for processors that ignore the signal, in ms. Default 1000. */
  readonly cancelTimeoutMs?: number
  /** Told about failures: malformed open requests or messages, lost callers, gaps. Default: ignored. */
  readonly onError?: (error: Error, session?: SessionInfo) => void
  /** Told when a session is over, with its task's result. */
  readonly onSessionEnd?: (session: SessionInfo, result: TaskResult) => void
}

/**
 * A running worker: see {@link serve}.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 * import { serve, type NatsService } from 'apipeline-ts/nats'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const service: NatsService = serve(nc, { subject: 'bot', processor: () => bot })
 * setInterval(() => console.log(`${service.sessions} sessions running`), 10_000).unref()
 * process.once('SIGTERM', () => void service.drain({ timeoutMs: 30_000 }).then(() => nc.drain()))
 * ```
 */
export interface NatsService {
  /** The service subject. */
  readonly subject: string
  /** Unique id of this service (callers see it as `RemoteSessionInfo.workerId`). */
  readonly id: string
  /** Sessions running now. */
  readonly sessions: number
  /** Sessions taken since the start. */
  readonly sessionsStarted: number
  /**
   * Stops taking sessions and resolves once the running ones have finished (SIGTERM-friendly). With `timeoutMs`,
   * sessions still running then are cancelled.
   */
  drain(options?: { readonly timeoutMs?: number }): Promise<void>
  /** Stops taking sessions and cancels the running ones (their callers get a `WorkerLostError`); resolves once all finished. */
  close(): Promise<void>
  /** Resolves once the service was drained or closed and every session finished. */
  readonly done: Promise<void>
}

class Service implements NatsService, SessionHost {
  readonly id = nuid.next()
  readonly codec: FrameCodec
  readonly window: number
  readonly cancelTimeoutMs: number
  readonly factory: (session: SessionInfo) => ProcessorFn<any, any>
  private readonly queue: string
  private readonly maxSessions: number
  private readonly onError: ((error: Error, session?: SessionInfo) => void) | undefined
  private readonly onSessionEnd: ((session: SessionInfo, result: TaskResult) => void) | undefined
  private sub: Subscription | undefined
  /** Open requests meant for this worker only (sent by callers that chose it from its load reports). */
  private direct: Subscription | undefined
  private readonly reporter: LoadReporter
  private readonly reportEvery: number
  private readonly running = new Set<WorkerSession>()
  /** Finished sessions whose caller has not left yet (their links still relay upstream frames). */
  private readonly lingering = new Set<WorkerSession>()
  private state: 'serving' | 'draining' | 'closed' = 'serving'
  private started = 0
  private resolveDone!: () => void
  readonly done: Promise<void>

  constructor(
    readonly nc: NatsConnection,
    readonly subject: string,
    options: ServeOptions,
  ) {
    this.queue = options.queue ?? 'apipeline'
    if (typeof this.queue !== 'string' || this.queue.length === 0 || /[\s*>]/.test(this.queue)) {
      throw new TypeError('serve(options).queue must be a queue group name (no spaces or wildcards)')
    }
    this.maxSessions = intOption('serve(options).maxSessions', options.maxSessions, 1000)
    this.window = intOption('serve(options).window', options.window, 128)
    this.cancelTimeoutMs = intOption('serve(options).cancelTimeoutMs', options.cancelTimeoutMs, 1000)
    this.codec = frameCodec(options.serializer)
    this.factory = options.processor
    this.onError = functionOption('serve(options).onError', options.onError)
    this.onSessionEnd = functionOption('serve(options).onSessionEnd', options.onSessionEnd)
    this.reportEvery = intOption('serve(options).loadReportMs', options.loadReportMs, 1000)
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve
    })
    this.listen()
    this.direct = this.subscribe(directSubject(subject, this.id), undefined)
    this.reporter = new LoadReporter(nc, subject, this.reportEvery, () => this.load())
    // A closed connection ends every session (they could not talk to their callers any more).
    void nc.closed().then(() => this.close())
  }

  get sessions(): number {
    return this.running.size
  }

  get sessionsStarted(): number {
    return this.started
  }

  /** This worker's load report now. */
  private load(): LoadReport {
    let frames = 0
    for (const session of this.running) frames += session.backlog
    return {
      v: LOAD_REPORT_VERSION,
      id: this.id,
      open: directSubject(this.subject, this.id),
      state: this.finishedAll ? 'closed' : this.state === 'serving' ? 'serving' : 'draining',
      sessions: this.running.size,
      max: this.maxSessions,
      frames,
      started: this.started,
      every: this.reportEvery,
    }
  }

  private finishedAll = false

  report(error: Error, session?: SessionInfo): void {
    try {
      this.onError?.(error, session)
    } catch {
      // A reporting callback never breaks the service.
    }
  }

  finished(session: WorkerSession, result: TaskResult): void {
    this.running.delete(session)
    this.lingering.add(session)
    try {
      this.onSessionEnd?.(session.info, result)
    } catch {
      // A reporting callback never breaks the service.
    }
    this.updateListening()
    this.reporter.changed()
    this.settle()
  }

  released(session: WorkerSession): void {
    this.lingering.delete(session)
  }

  drain(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'serving') {
      this.state = 'draining'
      this.unlisten()
      this.reporter.changed()
      this.settle()
      const timeoutMs = options.timeoutMs
      if (timeoutMs !== undefined) {
        intOption('drain(options).timeoutMs', timeoutMs, 0, 0)
        const timer = setTimeout(() => void this.close(), timeoutMs)
        void this.done.then(() => clearTimeout(timer))
      }
    }
    return this.done
  }

  close(): Promise<void> {
    if (this.state !== 'closed') {
      this.state = 'closed'
      this.unlisten()
      this.reporter.changed()
      for (const session of [...this.running, ...this.lingering]) void session.cancel()
      this.settle()
    }
    return this.done
  }

  private settle(): void {
    if (this.state === 'serving' || this.running.size > 0 || this.finishedAll) return
    this.finishedAll = true
    // Callers drop this worker from their tables at once.
    this.reporter.stop()
    this.resolveDone()
  }

  private subscribe(subject: string, queue: string | undefined): Subscription | undefined {
    if (this.state !== 'serving' || this.nc.isClosed() || this.nc.isDraining()) return undefined
    return this.nc.subscribe(subject, {
      ...(queue === undefined ? {} : { queue }),
      callback: (err, msg) => {
        if (err === null) this.onOpen(msg)
      },
    })
  }

  /** Joins the queue group. */
  private listen(): void {
    this.sub ??= this.subscribe(this.subject, this.queue)
  }

  /** Leaves the queue group; once the worker stops taking sessions, its direct subject too. */
  private unlisten(): void {
    const subs = [this.sub, this.state === 'serving' ? undefined : this.direct]
    this.sub = undefined
    if (this.state !== 'serving') this.direct = undefined
    for (const sub of subs) {
      try {
        sub?.unsubscribe()
      } catch {
        // The connection is already closed.
      }
    }
  }

  /**
   * At `maxSessions` the worker leaves the queue group, so NATS routes new sessions to the others (its direct subject
   * stays, refusing opens as busy until a session ends).
   */
  private updateListening(): void {
    if (this.running.size >= this.maxSessions) this.unlisten()
    else this.listen()
  }

  private answer(msg: Msg, reply: OpenReply): void {
    try {
      msg.respond(encodeOpenReply(reply))
    } catch (err) {
      this.report(err as Error)
    }
  }

  private onOpen(msg: Msg): void {
    let request: OpenRequest
    try {
      if (msg.reply === undefined || msg.reply === '') throw new MalformedMessageError(`open request on "${this.subject}" without a reply subject`)
      request = decodeOpenRequest(msg.data)
    } catch (err) {
      const error = err instanceof MalformedMessageError ? err : new MalformedMessageError(String(err), { cause: err })
      this.report(error)
      if (msg.reply !== undefined && msg.reply !== '') this.answer(msg, { ok: false, code: 'rejected', message: error.message })
      return
    }
    if (this.state !== 'serving' || this.running.size >= this.maxSessions) {
      this.answer(msg, { ok: false, code: 'busy', message: `worker ${this.id} is ${this.state === 'serving' ? 'at maxSessions' : this.state}` })
      return
    }
    if (request.format !== this.codec.format) {
      this.answer(msg, { ok: false, code: 'rejected', message: `the caller writes ${request.format}, this worker ${this.codec.format}` })
      return
    }
    let session: WorkerSession
    try {
      session = new WorkerSession(this, request)
    } catch (err) {
      this.report(err as Error)
      this.answer(msg, { ok: false, code: 'rejected', message: (err as Error).message })
      return
    }
    this.running.add(session)
    this.started++
    this.updateListening()
    this.answer(msg, { ok: true, worker: session.inbox, window: this.window, workerId: this.id, started: this.started })
    this.reporter.changed()
    session.start()
  }
}

/**
 * Serves `options.subject` on this connection: every session a caller opens with `remote(nc, subject)` runs
 * `options.processor(session)` as a task of its own here. The worker publishes its load (see
 * `ServeOptions.loadReportMs`) so that callers open each session on the least loaded worker serving the subject, and
 * joins the subject's NATS queue group for callers that place sessions by it — on one machine or many: connect them
 * to any node of a NATS cluster. A worker at `maxSessions` leaves the group and refuses opens until a session ends. `drain()` stops taking sessions and lets the running ones
 * finish (call it on SIGTERM, then `nc.drain()`); `close()` cancels them.
 *
 * Each session's frames keep their order, carry sequence numbers and flow-control credit, and heartbeats watch the
 * caller: a caller that disappears has its session cancelled (every stage's `finally` runs) within its heartbeat
 * timeout. Frames the session's stages push upstream (errors, `end`, `cancel`, …) go to the caller's pipeline.
 *
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 * import { Frames, map } from 'apipeline-ts'
 * import { serve } from 'apipeline-ts/nats'
 *
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' })
 * const service = serve(nc, {
 *   subject: 'upper',
 *   processor: () => map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f)),
 * })
 * process.once('SIGTERM', () => void service.drain({ timeoutMs: 10_000 }).then(() => nc.drain()))
 * ```
 */
export function serve(nc: NatsConnection, options: ServeOptions): NatsService {
  if (nc === null || typeof nc !== 'object' || typeof nc.subscribe !== 'function') throw new TypeError('serve(nc) needs a NATS connection')
  if (options === null || typeof options !== 'object') throw new TypeError('serve(options) must be an object')
  subjectOption('serve(options).subject', options.subject)
  if (typeof options.processor !== 'function') throw new TypeError('serve(options).processor must be a function (session) => Processor')
  return new Service(nc, options.subject, options)
}
