/**
 * The worker's half of one session: a `PipelineTask` running the served processor, fed from the session subject
 * (with credit granted back as the task takes frames) and sending its output and upstream frames to the caller.
 * @module
 */
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import type { ProcessorContext, UpstreamHandler } from '../core/context.js'
import { pipeline } from '../core/pipeline.js'
import { withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import { PipelineTask, type TaskResult } from '../core/task.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame, StartFrame } from '../frames/types.js'
import { Deque } from '../internal/channel.js'
import { isInterruptible } from '../interruption/uninterruptible.js'
import { CloseReason } from './envelope.js'
import { CallerLostError, type RemoteSessionError } from './errors.js'
import type { FrameCodec } from './frame-codec.js'
import type { OpenRequest } from './handshake.js'
import { SessionLink, costsCredit } from './link.js'

/**
 * A session as the worker sees it (given to the processor factory).
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 * import { serve, type SessionInfo } from 'apipeline-ts/nats'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * serve(nc, {
 *   subject: 'bot',
 *   processor: (session: SessionInfo) => (session.start.allowInterruptions ? bot : pipeline(bot, nonEmpty)),
 * })
 * ```
 */
export interface SessionInfo {
  /** The session id (chosen by the caller). */
  readonly id: string
  /** The service subject. */
  readonly subject: string
  /** The caller's stage name; the session's stages are named under it. */
  readonly name: string
  /** The caller's `start` frame. */
  readonly start: StartFrame
  /** The caller's session subject. */
  readonly caller: string
}

/** What a session needs from its service. */
export interface SessionHost {
  readonly nc: NatsConnection
  readonly subject: string
  readonly codec: FrameCodec
  readonly window: number
  readonly cancelTimeoutMs: number
  readonly factory: (session: SessionInfo) => ProcessorFn<any, any>
  report(error: Error, session?: SessionInfo): void
  /** The session's task finished. */
  finished(session: WorkerSession, result: TaskResult): void
  /** The session's link and subscription are released. */
  released(session: WorkerSession): void
}

/** Longest stretch a session's output loop runs without letting the event loop turn, in ms. */
const TURN_MS = 10

/** See the module documentation. */
export class WorkerSession {
  readonly inbox = createInbox()
  readonly info: SessionInfo
  private readonly link: SessionLink
  private readonly sub: Subscription
  private task: PipelineTask | undefined
  /** Credited input frames waiting for room in the task's input queue. */
  private readonly queue = new Deque<Frame>()
  private feeding = false
  /** Interruptions applied; stamped on every output frame. */
  private epoch = 0
  private readonly upstreamHandlers: UpstreamHandler[] = []
  /** Set when the worker itself ends the session (close, failure): what to tell the caller. */
  private closing: { reason: CloseReason; message: string } | undefined
  private callerLeft = false

  constructor(
    private readonly host: SessionHost,
    request: OpenRequest,
  ) {
    this.info = { id: request.session, subject: host.subject, name: request.name, start: request.start, caller: request.caller }
    this.link = new SessionLink({
      nc: host.nc,
      peer: request.caller,
      codec: host.codec,
      window: host.window,
      peerWindow: request.window,
      heartbeatMs: request.heartbeatMs,
      heartbeatTimeoutMs: request.heartbeatTimeoutMs,
      where: `worker of session ${request.session} (${request.name})`,
      lost: (why, cause) =>
        new CallerLostError(
          why === 'heartbeat'
            ? `session ${request.session} (${request.name}): the caller sent nothing for ${request.heartbeatTimeoutMs} ms`
            : `session ${request.session} (${request.name}): ${(cause as Error | undefined)?.message ?? 'connection lost'}`,
          { cause },
        ),
    })
    this.link.events = {
      frame: (frame) => this.onInput(frame),
      upstream: (frame) => this.onUpstream(frame),
      interrupt: () => {
        this.epoch++
        this.task?.interrupt()
      },
      close: () => {
        this.callerLeft = true
        if (this.finished) this.release()
        else void this.task?.cancel()
      },
      fail: (error) => this.fail(error),
      junk: (error) => {
        this.host.report(error, this.info)
        this.relayUp(errorFrame(error, { processor: this.info.name }))
      },
    }
    this.sub = host.nc.subscribe(this.inbox, {
      callback: (err, msg) => {
        if (err === null) this.link.receive(msg.data)
      },
    })
  }

  /** Input frames received from the caller and not yet taken by the session's task. */
  get backlog(): number {
    return this.link.backlog
  }

  /** Starts the task (after the accept was sent). */
  start(): void {
    let user: ProcessorFn<any, any>
    try {
      user = this.host.factory(this.info)
      if (typeof user !== 'function') throw new TypeError(`serve(): processor(session) must return a processor, got ${typeof user}`)
    } catch (err) {
      this.host.report(err as Error, this.info)
      this.link.sendUpstream(errorFrame(err as Error, { fatal: true, processor: this.info.name }))
      this.closing = { reason: CloseReason.failed, message: (err as Error).message }
      this.finish({ status: 'errored', errors: [] })
      return
    }
    const session: Processor = withInfo((source, ctx) => this.runSession(user, source, ctx), { name: 'session' })
    const s = this.info.start
    this.task = new PipelineTask(session, {
      name: this.info.name,
      allowInterruptions: s.allowInterruptions,
      enableMetrics: s.enableMetrics,
      enableUsageMetrics: s.enableUsageMetrics,
      reportOnlyInitialTtfb: s.reportOnlyInitialTtfb,
      audioInSampleRate: s.audioInSampleRate,
      audioOutSampleRate: s.audioOutSampleRate,
      sendInitialEmptyMetrics: false,
      cancelTimeoutMs: this.host.cancelTimeoutMs,
    })
    void this.task.run().then((result) => this.finish(result))
    this.feed()
  }

  /** Cancels the session from the worker's side (the caller gets a {@link WorkerLostError}). */
  cancel(message = 'the worker is closing'): Promise<unknown> {
    if (this.finished) {
      this.release()
      return Promise.resolve()
    }
    this.closing ??= { reason: CloseReason.cancelled, message }
    return this.task?.cancel() ?? Promise.resolve()
  }

  /** The served processor, its upstream frames relayed to the caller instead of reaching this task. */
  private runSession(user: ProcessorFn<any, any>, source: AsyncIterable<Frame>, ctx: ProcessorContext): AsyncIterable<Frame> {
    const handlers = this.upstreamHandlers
    const inner: ProcessorContext = {
      name: this.info.name,
      get signal() {
        return ctx.signal
      },
      get cancelSignal() {
        return ctx.cancelSignal
      },
      get start() {
        return ctx.start
      },
      get metrics() {
        return ctx.metrics
      },
      runtime: ctx.runtime,
      pushUpstream: (frame) => this.relayUp(frame),
      onUpstream: (handler) => {
        handlers.push(handler)
        return () => {
          const i = handlers.indexOf(handler)
          if (i >= 0) handlers.splice(i, 1)
        }
      },
    }
    return this.send(pipeline(user)(source, inner), ctx)
  }

  /** Sends the pipeline's output to the caller, waiting for credit; yields nothing. */
  private async *send(output: AsyncIterable<Frame>, ctx: ProcessorContext): AsyncGenerator<never> {
    const link = this.link
    let turn = performance.now()
    for await (const frame of output) {
      // The epoch in which the pipeline handed the frame over: what it is stamped with, whatever happens while it waits
      // here (a turn of the event loop, credit) — an interruption arriving meanwhile makes it stale, not fresh.
      const epoch = this.epoch
      // While input is queued the session runs on microtasks alone: give timers (heartbeats) and I/O (output,
      // credit, other sessions' messages) a turn every few ms of work.
      if (performance.now() - turn > TURN_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        turn = performance.now()
      }
      if (costsCredit(frame)) {
        const ok = link.waitCredit(ctx.cancelSignal)
        if (ok !== true && !(await ok)) return
      }
      // Output held back (for credit, or for a turn of the event loop) while an interruption came is stale.
      if (epoch !== this.epoch && isInterruptible(frame)) continue
      try {
        if (!link.sendFrame(frame, epoch)) return
      } catch (err) {
        this.relayUp(errorFrame(err as Error, { processor: this.info.name }))
      }
    }
  }

  private relayUp(frame: Frame): void {
    try {
      this.link.sendUpstream(frame)
    } catch (err) {
      this.host.report(err as Error, this.info)
    }
  }

  /** A frame pushed upstream after the caller's `remote()` stage: the session's stages observe it. */
  private onUpstream(frame: Frame): void {
    const handlers = [...this.upstreamHandlers]
    const step = (i: number, f: Frame): void => {
      const h = handlers[i]
      if (h !== undefined) h(f, (g) => step(i + 1, g))
    }
    try {
      step(0, frame)
    } catch (err) {
      this.host.report(err as Error, this.info)
    }
  }

  private onInput(frame: Frame): void {
    const task = this.task
    if (!costsCredit(frame)) {
      // Out-of-band frames (cancel, stopTask, interruptions, errors) act at once.
      if (task !== undefined) void task.queueFrame(frame).catch(() => {})
      return
    }
    this.queue.push(frame)
    this.feed()
  }

  /** Moves queued input into the task's bounded input queue, granting credit as it goes. */
  private feed(): void {
    const task = this.task
    if (this.feeding || task === undefined) return
    this.feeding = true
    void (async () => {
      try {
        for (;;) {
          const frame = this.queue.shift()
          if (frame === undefined) break
          const wait = task.hasFinished() ? undefined : task.pushFrame(frame)
          if (wait !== undefined) await wait
          this.link.consumed(1)
        }
      } finally {
        this.feeding = false
      }
    })()
  }

  private fail(error: RemoteSessionError): void {
    if (this.finished) {
      // The session had completed: only the relay of upstream frames ends.
      this.release()
      return
    }
    this.host.report(error, this.info)
    const reason = error.code === 'gap' ? CloseReason.gap : error.code === 'malformed' ? CloseReason.malformed : CloseReason.failed
    if (error instanceof CallerLostError) this.callerLeft = true
    else this.link.sendClose(reason, error.message)
    this.closing ??= { reason, message: error.message }
    void this.task?.cancel()
  }

  private finished = false
  private released = false

  private finish(result: TaskResult): void {
    if (this.finished) return
    this.finished = true
    let linger = false
    if (!this.callerLeft && !this.link.closed) {
      const closing = this.closing
      if (closing !== undefined) this.link.sendClose(closing.reason, closing.message)
      else if (result.status === 'ended') {
        // Complete. The link stays until the caller leaves: frames pushed upstream after its stage still reach ours.
        this.link.sendDone()
        linger = true
      } else this.link.sendClose(CloseReason.failed, result.error?.error ?? `the session ${result.status}`)
    }
    this.queue.clear()
    this.host.finished(this, result)
    if (!linger) this.release()
  }

  /** Closes the link and the subscription. Idempotent. */
  private release(): void {
    if (this.released) return
    this.released = true
    this.link.close()
    try {
      this.sub.unsubscribe()
    } catch {
      // The connection is already closed.
    }
    this.host.released(this)
  }
}
