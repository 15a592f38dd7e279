/**
 * `remote(nc, subject, options)`: a processor whose frames are processed on some worker serving `subject`.
 * @module
 */
import { createInbox, errors as natsErrors, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import type { ProcessorContext } from '../core/context.js'
import { withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import { end as endFrame, error as errorFrame, start as startFrame } from '../frames/constructors.js'
import type { Frame, StartFrame } from '../frames/types.js'
import { Deque } from '../internal/channel.js'
import { stampEpoch } from '../interruption/epoch-stamp.js'
import { ledgerOf } from '../interruption/ledger.js'
import { isInterruptible } from '../interruption/uninterruptible.js'
import { FrameEncodeError, type FrameSerializer } from '../wire/index.js'
import { CloseReason, MessageType, encodeEnvelope } from './envelope.js'
import { GapDetectedError, MalformedMessageError, NoWorkerError, WorkerLostError, type NoWorkerReason, type RemoteSessionError } from './errors.js'
import { frameCodec, type FrameCodec } from './frame-codec.js'
import { PROTOCOL_VERSION, decodeOpenReply, encodeOpenRequest, type OpenReply } from './handshake.js'
import { SessionLink, costsCredit } from './link.js'
import { functionOption, intOption, sleep, subjectOption } from './options.js'
import { workersOf, type PlacedWorker, type WorkerTable } from './placement.js'

/**
 * Options of {@link remote}.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 * import { remote } from 'apipeline-ts/nats'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const remoteTts = remote(nc, 'tts', { name: 'tts', window: 64, heartbeatMs: 500, fatal: false })
 * ```
 */
export interface RemoteOptions {
  /** Display name of the stage (in error frames and the worker's stage names). Default `remote:<subject>`. */
  readonly name?: string
  /** Frames the caller accepts from the worker before the worker must wait for credit. Default 128. */
  readonly window?: number
  /** Heartbeat interval, both directions, in ms. Default 1000. */
  readonly heartbeatMs?: number
  /** A side that hears nothing for this long considers its peer lost, in ms. Default 3 × `heartbeatMs`. */
  readonly heartbeatTimeoutMs?: number
  /** How long to look for a worker (retrying while all are busy) before failing with {@link NoWorkerError}, in ms. Default 2000. */
  readonly openTimeoutMs?: number
  /**
   * How the session's worker is chosen. `'least-loaded'` (default): the worker with the fewest sessions, from the
   * load reports every worker publishes (counting this caller's own opens not reported yet, so a burst spreads
   * evenly); a full or draining worker is skipped, one that refuses or cannot be reached is passed over for the next,
   * and with no reports (older workers) the queue group picks. `'queue-group'`: the NATS queue group picks at random.
   */
  readonly placement?: 'least-loaded' | 'queue-group'
  /**
   * Whether a failed session (no worker, worker lost, gap, undecodable message) ends the run: `true` (default) sends
   * a fatal `error` frame upstream (the task ends `'errored'`); `false` sends a non-fatal one and ends the stage.
   */
  readonly fatal?: boolean
  /** The binary format for the frames it carries (default protobuf); JSON carries the rest. Workers must use the same. */
  readonly serializer?: FrameSerializer
  /** Called when a session is open (for logs and diagnostics). */
  readonly onSession?: (session: RemoteSessionInfo) => void
}

/**
 * A session as the caller sees it (given to `RemoteOptions.onSession`).
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 * import { remote, type RemoteSessionInfo } from 'apipeline-ts/nats'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * remote(nc, 'bot', { onSession: (s: RemoteSessionInfo) => console.log(`session ${s.id} on worker ${s.workerId}`) })
 * ```
 */
export interface RemoteSessionInfo {
  /** The session id. */
  readonly id: string
  /** The service subject. */
  readonly subject: string
  /** The caller's session subject (the worker sends here). */
  readonly caller: string
  /** The worker's session subject (the caller sends here). */
  readonly worker: string
  /** Id of the worker process's service (`NatsService.id`). */
  readonly workerId: string
  /** How the worker was found: chosen from the load reports, or by the queue group. */
  readonly placement: 'least-loaded' | 'queue-group'
}

interface Resolved {
  readonly name: string
  readonly window: number
  readonly heartbeatMs: number
  readonly heartbeatTimeoutMs: number
  readonly openTimeoutMs: number
  readonly placement: 'least-loaded' | 'queue-group'
  readonly fatal: boolean
  readonly codec: FrameCodec
  readonly onSession: ((session: RemoteSessionInfo) => void) | undefined
}

function resolveOptions(subject: string, options: RemoteOptions): Resolved {
  if (options === null || typeof options !== 'object') throw new TypeError('remote(options) must be an object')
  const heartbeatMs = intOption('remote(options).heartbeatMs', options.heartbeatMs, 1000)
  const name = options.name ?? `remote:${subject}`
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('remote(options).name must be a non-empty string')
  if (options.fatal !== undefined && typeof options.fatal !== 'boolean') throw new TypeError('remote(options).fatal must be a boolean')
  const placement = options.placement ?? 'least-loaded'
  if (placement !== 'least-loaded' && placement !== 'queue-group') throw new TypeError("remote(options).placement must be 'least-loaded' or 'queue-group'")
  return {
    name,
    window: intOption('remote(options).window', options.window, 128),
    heartbeatMs,
    heartbeatTimeoutMs: intOption('remote(options).heartbeatTimeoutMs', options.heartbeatTimeoutMs, 3 * heartbeatMs),
    openTimeoutMs: intOption('remote(options).openTimeoutMs', options.openTimeoutMs, 2000),
    placement,
    fatal: options.fatal ?? true,
    codec: frameCodec(options.serializer),
    onSession: functionOption('remote(options).onSession', options.onSession),
  }
}

const isType = (frame: Frame, type: string): boolean => frame.kind !== 'app' && frame.type === type

/** `promise`'s value, or undefined as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}

/** Why an open request failed, or undefined when the error is not a request failure. */
function requestFailure(err: unknown): NoWorkerReason | undefined {
  const e = err as { name?: unknown; cause?: unknown }
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return 'no-responders'
  if (err instanceof natsErrors.NoRespondersError || e.cause instanceof natsErrors.NoRespondersError) return 'no-responders'
  if (err instanceof natsErrors.TimeoutError || e.cause instanceof natsErrors.TimeoutError) return 'timeout'
  return undefined
}

/** The caller's half of one session: opens it, pumps the input out, queues the worker's output. */
class CallerSession {
  private link: SessionLink | undefined
  private sub: Subscription | undefined
  /** Messages that arrived before the open reply was read. */
  private early: Uint8Array[] = []
  private readonly queue = new Deque<Frame>()
  private waiter: ((frame: Frame | undefined) => void) | undefined
  private state: 'opening' | 'open' | 'done' | 'failed' | 'disposed' = 'opening'
  /** Interruptions relayed to the worker: output stamped with an older epoch is stale. */
  private epoch = 0
  /**
   * The run's interruption epoch for each session epoch (`[k]`: the run's epoch once the k-th interruption was
   * relayed): the worker stamps its output with the session epoch it had when its pipeline produced it, and this
   * stage stamps the frame with the run's epoch it answers, so the stage boundary drops it if an interruption came
   * since — also when the frame is already on its way out (handed to the waiting consumer, yielded).
   */
  private readonly runEpochs: number[]
  /** `startInterruption` frames of relayed interruptions still to be met in the input (the worker makes its own). */
  private swallow = 0
  private syntheticEnd = false
  private readonly cleanups: (() => void)[] = []
  readonly id: string
  private readonly inbox: string

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly o: Resolved,
    private readonly ctx: ProcessorContext,
    private readonly localStart: StartFrame | undefined,
  ) {
    this.inbox = createInbox()
    this.id = this.inbox.slice(this.inbox.lastIndexOf('.') + 1)
    this.runEpochs = [ctx.runtime.interruptEpoch]
    const onCancel = (): void => this.wake(undefined)
    ctx.cancelSignal.addEventListener('abort', onCancel, { once: true })
    this.cleanups.push(() => ctx.cancelSignal.removeEventListener('abort', onCancel))
  }

  /** Opens the session on some worker; false (after reporting why) when none took it or the run was cancelled. */
  async open(): Promise<boolean> {
    const o = this.o
    try {
      this.sub = this.nc.subscribe(this.inbox, {
        callback: (err, msg) => {
          if (err !== null) return
          if (this.link !== undefined) this.link.receive(msg.data)
          else if (this.state === 'opening') {
            this.early.push(msg.data)
            if (this.early.length > o.window + 64) this.failWith(new MalformedMessageError(`${o.name}: the worker sent past its credit before the session was open`))
          }
        },
      })
    } catch (err) {
      this.failWith(new WorkerLostError('connection', `${o.name}: cannot subscribe: ${(err as Error).message}`, { cause: err }))
      return false
    }
    const payload = encodeOpenRequest({
      v: PROTOCOL_VERSION,
      session: this.id,
      caller: this.inbox,
      name: this.ctx.name,
      start: this.localStart ?? this.ctx.start ?? startFrame(),
      window: o.window,
      heartbeatMs: o.heartbeatMs,
      heartbeatTimeoutMs: o.heartbeatTimeoutMs,
      format: o.codec.format,
    })
    const deadline = performance.now() + o.openTimeoutMs
    // The most telling reason seen: a last attempt cut short by the deadline does not hide the busy or absent workers.
    let reason: NoWorkerReason | undefined
    let detail = ''
    let pause = 10
    const cancel = this.ctx.cancelSignal
    const table: WorkerTable | undefined = o.placement === 'least-loaded' ? workersOf(this.nc, this.subject) : undefined
    if (table !== undefined) await untilAborted(table.ready(), cancel)
    // Workers chosen from the table that refused or could not be reached, passed over until the next pause.
    const tried = new Set<string>()
    let reply: OpenReply | undefined
    let placedBy: 'least-loaded' | 'queue-group' = 'queue-group'
    while (reply === undefined) {
      const remaining = deadline - performance.now()
      if (remaining <= 0 || this.state !== 'opening' || cancel.aborted) break
      // The least loaded worker that reports, or the queue group when none does (or every one was tried).
      const worker: PlacedWorker | undefined = table?.pick(tried)
      if (worker !== undefined) table?.opening(worker)
      let answered = false
      const settle = (started: number | undefined): void => {
        if (worker === undefined || answered) return
        answered = true
        table?.answered(worker, started)
      }
      try {
        // A direct request leaves time for another worker if this one does not answer.
        const timeout = worker === undefined ? remaining : Math.max(remaining / 2, Math.min(remaining, 250))
        const request = this.nc.request(worker?.report.open ?? this.subject, payload, { timeout: Math.max(1, Math.ceil(timeout)) })
        const msg = await untilAborted(request, cancel)
        if (msg === undefined) {
          settle(undefined)
          // Cancelled while a worker may be accepting: if one does, tell it at once (its first message is #0).
          request.then(
            (late) => {
              try {
                const answer = decodeOpenReply(late.data)
                if (answer.ok) this.nc.publish(answer.worker, encodeEnvelope(MessageType.close, CloseReason.cancelled, 0, 0))
              } catch {
                // A bad reply or a closed connection: the worker's heartbeat timeout ends that session.
              }
            },
            () => {},
          )
          return false
        }
        const answer = decodeOpenReply(msg.data)
        settle(answer.ok ? answer.started : undefined)
        if (answer.ok) {
          reply = answer
          placedBy = worker === undefined ? 'queue-group' : 'least-loaded'
        } else if (answer.code === 'busy') {
          reason = 'busy'
          if (worker !== undefined) {
            table?.refused(worker)
            tried.add(worker.report.id)
            continue
          }
        } else {
          reason = 'rejected'
          detail = answer.message
          break
        }
      } catch (err) {
        settle(undefined)
        const why = requestFailure(err)
        if (why === undefined) {
          if (err instanceof MalformedMessageError) {
            reason = 'rejected'
            detail = err.message
            break
          }
          this.failWith(new WorkerLostError('connection', `${o.name}: cannot open a session on "${this.subject}": ${(err as Error).message}`, { cause: err }))
          return false
        }
        if (worker !== undefined) {
          // That worker is gone (or stalled): forget it until it reports again, and try the next at once.
          table?.unreachable(worker)
          tried.add(worker.report.id)
          if (why === 'timeout') reason ??= why
          continue
        }
        if (why === 'timeout') reason ??= why
        else reason = why
      }
      if (reply === undefined) {
        await sleep(Math.min(pause, Math.max(0, deadline - performance.now())), cancel)
        pause = Math.min(pause * 2, 200)
        tried.clear()
      }
    }
    if (reply === undefined || !reply.ok) {
      if (!cancel.aborted && this.state === 'opening') this.failWith(new NoWorkerError(this.subject, reason ?? 'timeout', detail))
      return false
    }
    const link = new SessionLink({
      nc: this.nc,
      peer: reply.worker,
      codec: o.codec,
      window: o.window,
      peerWindow: reply.window,
      heartbeatMs: o.heartbeatMs,
      heartbeatTimeoutMs: o.heartbeatTimeoutMs,
      where: `${o.name} (session ${this.id})`,
      lost: (why, cause) =>
        why === 'heartbeat'
          ? new WorkerLostError('heartbeat', `${o.name}: the worker of session ${this.id} sent nothing for ${o.heartbeatTimeoutMs} ms`)
          : new WorkerLostError('connection', `${o.name}: session ${this.id}: ${(cause as Error | undefined)?.message ?? 'connection lost'}`, { cause }),
    })
    if (this.state !== 'opening') {
      // Cancelled (or failed) while the worker was accepting: tell it, so it finalizes the session at once.
      link.sendClose(CloseReason.cancelled)
      return false
    }
    this.link = link
    this.state = 'open'
    link.events = {
      frame: (frame, epoch) => this.onFrame(frame, epoch),
      upstream: (frame) => {
        if (this.state === 'open' || this.state === 'done') this.ctx.pushUpstream(frame)
      },
      interrupt: () => {},
      close: (why, message) => this.onClose(why, message),
      fail: (error) => this.failWith(error),
      junk: (error) => this.ctx.pushUpstream(errorFrame(error, { processor: this.ctx.name })),
    }
    this.cleanups.push(this.ctx.runtime.onInterrupt(() => this.interrupt()))
    this.cleanups.push(
      this.ctx.onUpstream((frame, next) => { 
        // Frames pushed upstream after this stage: the worker's stages observe them; they go on here at once.
        if ((this.state === 'open' || this.state === 'done') && !link.closed) {
          try {
            link.sendUpstream(frame)
          } catch {
            // A frame the wire cannot carry is not observed remotely; it still goes on locally.
          }
        }
        next(frame)
      }),
    )
    const early = this.early
    this.early = []
    for (const data of early) link.receive(data)
    try {
      o.onSession?.({ id: this.id, subject: this.subject, caller: this.inbox, worker: reply.worker, workerId: reply.workerId, placement: placedBy })
    } catch {
      // A diagnostics callback does not decide the session.
    }
    return true
  }

  /** Sends the input to the worker until it ends; runs beside the output loop. */
  async pump(it: AsyncIterator<Frame>, first: Frame | undefined): Promise<void> {
    const link = this.link as SessionLink
    let pending = first
    try {
      for (;;) {
        let frame: Frame
        if (pending !== undefined) {
          frame = pending
          pending = undefined
        } else {
          const r = await it.next()
          if (this.state !== 'open') return
          if (r.done === true) {
            // The input ended without `end` (a plain iterable, not a task): end the remote run, keep its `end` to itself.
            this.syntheticEnd = true
            frame = endFrame()
            const ok = link.waitCredit(this.ctx.cancelSignal)
            if (ok !== true && !(await ok)) return
            link.sendFrame(frame)
            return
          }
          frame = r.value
        }
        if (isType(frame, 'start')) continue
        if (isType(frame, 'startInterruption') && this.swallow > 0) {
          this.swallow--
          continue
        }
        if (costsCredit(frame)) {
          const ok = link.waitCredit(this.ctx.cancelSignal)
          if (ok !== true && !(await ok)) return
        }
        if (this.state !== 'open') return
        try {
          link.sendFrame(frame)
        } catch (err) {
          if (!(err instanceof FrameEncodeError)) throw err
          this.ctx.pushUpstream(errorFrame(err, { processor: this.ctx.name }))
          continue
        }
        if (isType(frame, 'end') || isType(frame, 'cancel') || isType(frame, 'stopTask')) return
      }
    } catch (err) {
      if (this.state === 'open') {
        this.failWith(new WorkerLostError('connection', `${this.o.name}: reading the input failed: ${(err as Error).message}`, { cause: err }))
      }
    }
  }

  /** The worker's next output frame, or undefined when the session is over. */
  next(): Promise<Frame | undefined> | Frame | undefined {
    const frame = this.queue.shift()
    if (frame !== undefined) return frame
    if (this.state !== 'open' || this.ctx.cancelSignal.aborted) return undefined
    return new Promise((resolve) => {
      this.waiter = resolve
    })
  }

  /** The consumer took `frame`: grants its credit back. */
  taken(frame: Frame): void {
    if (costsCredit(frame)) this.link?.consumed(1)
  }

  /** Leaves the session (cancelling it on the worker unless it is over) and releases everything. Idempotent. */
  dispose(): void {
    if (this.state === 'disposed') return
    const was = this.state
    this.state = 'disposed'
    if (was === 'open') this.link?.sendClose(CloseReason.cancelled)
    else if (was === 'done') this.link?.sendClose(CloseReason.done)
    else this.link?.close()
    try {
      this.sub?.unsubscribe()
    } catch {
      // The connection is already closed.
    }
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    this.queue.clear()
    this.wake(undefined)
  }

  private onFrame(frame: Frame, epoch: number): void {
    const link = this.link as SessionLink
    if (this.state !== 'open') return
    let out: Frame | undefined = frame
    const runEpoch = this.runEpochs[epoch] ?? this.ctx.runtime.interruptEpoch
    if (isInterruptible(frame)) {
      if (epoch < this.epoch) {
        // Produced before the worker saw the interruption: stale.
        ledgerOf(this.ctx.runtime).stale(frame, runEpoch)
        out = undefined
      } else stampEpoch(this.ctx, frame, runEpoch)
    } else if (isType(frame, 'start')) out = this.localStart
    else if (isType(frame, 'end') && this.syntheticEnd) out = undefined
    if (out === undefined) {
      if (costsCredit(frame)) link.consumed(1)
      return
    }
    if (this.waiter !== undefined && this.queue.length === 0) this.wake(out)
    else this.queue.push(out)
  }

  private onClose(reason: CloseReason, message: string): void {
    if (this.state === 'done') {
      this.link?.close()
      return
    }
    if (this.state !== 'open') return
    if (reason === CloseReason.done) {
      // The output is complete; the link stays open until this stage ends, for frames pushed upstream after it.
      this.state = 'done'
      if (this.queue.length === 0) this.wake(undefined)
      return
    }
    const where = `${this.o.name} (session ${this.id})`
    const error: RemoteSessionError =
      reason === CloseReason.gap
        ? Object.assign(new GapDetectedError(0, 0, where), { message: `${where}: the worker detected a gap: ${message}` })
        : reason === CloseReason.malformed
          ? new MalformedMessageError(`${where}: the worker could not read a message: ${message}`)
          : new WorkerLostError('closed', `${where}: the worker closed the session${message === '' ? '' : `: ${message}`}`)
    this.failWith(error)
  }

  /** The run was interrupted: the worker interrupts too; output it produced before that is stale. */
  private interrupt(): void {
    if (this.state !== 'open') return
    const runEpoch = this.runEpochs[this.epoch] ?? this.ctx.runtime.interruptEpoch - 1
    this.epoch++
    this.runEpochs.push(this.ctx.runtime.interruptEpoch)
    this.swallow++
    this.link?.sendInterrupt()
    const dropped = this.queue.removeWhere(isInterruptible)
    if (dropped.length > 0) {
      this.link?.consumed(dropped.length)
      const ledger = ledgerOf(this.ctx.runtime)
      for (const frame of dropped) ledger.dropped(frame, runEpoch)
    }
  }

  /** Reports `error` upstream (fatal or not, per the options) and ends the session. */
  private failWith(error: RemoteSessionError): void {
    if (this.state === 'done') {
      // The session had completed; only the relay of upstream frames to the worker ends.
      this.link?.close()
      return
    }
    if (this.state === 'failed' || this.state === 'disposed') return
    const wasOpen = this.state === 'open'
    this.state = 'failed'
    error.fatal = this.o.fatal
    if (!this.ctx.cancelSignal.aborted) {
      this.ctx.pushUpstream(errorFrame(error, { fatal: this.o.fatal, processor: this.ctx.name, cause: error }))
    }
    if (wasOpen && this.link !== undefined && !this.link.closed) {
      const reason = error.code === 'gap' ? CloseReason.gap : error.code === 'malformed' ? CloseReason.malformed : CloseReason.failed
      this.link.sendClose(reason, error.message)
    }
    this.queue.clear()
    this.wake(undefined)
  }

  private wake(frame: Frame | undefined): void {
    const waiter = this.waiter
    if (waiter === undefined) return
    this.waiter = undefined
    waiter(frame)
  }
}

/**
 * A processor whose frames run on a worker: at `start` it opens a session on one of the workers serving `subject`
 * (`serve(nc, { subject, processor })`: the least loaded one by their load reports, or the one a NATS queue group
 * picks when none reports; see `RemoteOptions.placement`), sends the frames it reads, and yields
 * the frames the worker's pipeline outputs. Used anywhere in a local pipeline:
 * `pipeline(input, remote(nc, 'bot'), output)` runs a whole bot on a worker, `pipeline(stt, remote(nc, 'tts'), out)`
 * one heavy stage.
 *
 * Across the wire, as in one process: order per session; `start` first and `end` last, after the worker drained;
 * cancel (`ctx.signal`) reaches the worker's processors; an interruption aborts the worker's `ctx.signal` and its
 * `startInterruption` comes back ahead of any stale output; frames the worker's stages push upstream (errors named
 * `<this stage>/<worker stage>`, `end`, `cancel`, …) reach this pipeline's earlier stages and task; frames pushed
 * upstream after this stage are observed by the worker's stages and go on here at once.
 *
 * Every message is numbered (a lost one fails the session with {@link GapDetectedError}), both directions have
 * credit-based flow control (a slow consumer on either side stops the producer, nothing queues beyond `window`),
 * and both sides send heartbeats: a worker that dies is reported as a {@link WorkerLostError} within
 * `heartbeatTimeoutMs`; no worker within `openTimeoutMs` is a {@link NoWorkerError}. Failures are `error` frames
 * sent upstream, fatal unless `fatal: false` (then the stage ends).
 *
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 * import { Frames, pipeline, run } from 'apipeline-ts'
 * import { remote } from 'apipeline-ts/nats'
 *
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' })
 * for await (const frame of run(pipeline(remote(nc, 'upper')), [Frames.text('hi')])) {
 *   console.log(Frames.format(frame))
 * }
 * await nc.drain()
 * ```
 */
export function remote(nc: NatsConnection, subject: string, options: RemoteOptions = {}): Processor {
  if (nc === null || typeof nc !== 'object' || typeof nc.request !== 'function') throw new TypeError('remote(nc) needs a NATS connection')
  subjectOption('remote(subject)', subject)
  const o = resolveOptions(subject, options)
  const processor: ProcessorFn = async function* remoteStage(source, ctx) {
    const it = source[Symbol.asyncIterator]()
    const first = await it.next()
    if (first.done === true) return
    const localStart = isType(first.value, 'start') ? (first.value as StartFrame) : undefined
    const session = new CallerSession(nc, subject, o, ctx, localStart)
    try {
      if (!(await session.open())) return
      void session.pump(it, localStart === undefined ? first.value : undefined)
      for (;;) {
        const next = session.next()
        const frame = next instanceof Promise ? await next : next
        if (frame === undefined) return
        // A frame of the worker's output carries the epoch it answers (see CallerSession.runEpochs): the stage drops
        // it if an interruption came since, also one that came while it was on its way out.
        yield frame
        session.taken(frame)
      }
    } finally {
      session.dispose()
    }
  }
  return withInfo(processor, { name: o.name })
}
