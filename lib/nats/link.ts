/**
 * One side of a session: numbers every message it sends, checks the numbers of those it receives, keeps the credit
 * of both directions, and sends and watches heartbeats. Used alike by the caller (`remote`) and the worker (`serve`).
 *
 * Flow control: a side may send a credited frame (every frame but the out-of-band system frames, see
 * {@link costsCredit}) only while it holds credit; it starts with the peer's window and gets more as the peer's
 * consumer takes frames. A receiver therefore never holds more than its window of credited frames, whatever the
 * speed of either side; a peer that sends past its credit breaks the protocol and fails the session.
 * @module
 */
import type { NatsConnection } from '@nats-io/transport-node'
import type { Frame } from '../frames/types.js'
import { FrameEncodeError } from '../wire/index.js'
import { GapDetectedError, MalformedMessageError, type RemoteSessionError } from './errors.js'
import { CloseReason, HEADER_BYTES, MessageType, Outbox, decodeBatch, decodeEnvelope, encodeEnvelope, type Codec, type Envelope } from './envelope.js'
import type { FrameCodec } from './frame-codec.js'
import { everyPeriod } from './heartbeat-clock.js'
import { turnOf, type ConnectionTurn } from './turn.js'

/**
 * True for frames that take one unit of credit: data, app and control frames, and `metrics`. The other system
 * frames (`cancel`, `stopTask`, `error`, interruptions) are rare and out-of-band: they pass a peer that is out of credit.
 */
export function costsCredit(frame: Frame): boolean {
  return frame.kind !== 'system' || frame.type === 'metrics'
}

/** What a link reports to its owner. */
export interface LinkEvents {
  /** A frame travelling downstream arrived (in order); `epoch` is the sender's interruption count. */
  frame(frame: Frame, epoch: number): void
  /** A frame travelling upstream arrived. */
  upstream(frame: Frame): void
  /** The caller's pipeline was interrupted. */
  interrupt(): void
  /** The peer left the session. */
  close(reason: CloseReason, message: string): void
  /** The session cannot go on (gap, undecodable frame, credit overrun, peer silent, connection gone). */
  fail(error: RemoteSessionError): void
  /** A message that is not a session message arrived on the session subject; it was ignored. */
  junk(error: MalformedMessageError): void
}

/** Settings of a link. */
export interface LinkOptions {
  readonly nc: NatsConnection
  /** The peer's session subject. */
  readonly peer: string
  readonly codec: FrameCodec
  /** Credited frames this side accepts before it grants more. */
  readonly window: number
  /** Credited frames the peer accepts: the initial send credit. */
  readonly peerWindow: number
  readonly heartbeatMs: number
  readonly heartbeatTimeoutMs: number
  /** Names this side in error messages, e.g. `caller of session 7 (remote:bot)`. */
  readonly where: string
  /** The error to fail with when the peer is silent past the timeout, or publishing fails. */
  readonly lost: (reason: 'heartbeat' | 'connection', cause?: unknown) => RemoteSessionError
}

const now = (): number => performance.now()

/**
 * Largest batch in bytes: large enough that a turn's frames (e.g. 100 audio frames of 640 bytes) leave in one NATS
 * message, small enough not to hold up the other sessions' messages on the connection.
 */
const MAX_BATCH_BYTES = 64 * 1024
const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** See the module documentation. */
export class SessionLink {
  private sendSeq = 0
  private recvSeq = 0
  private credit: number
  /** Credited frames received and not yet consumed. */
  private unconsumed = 0
  /** Consumed frames not yet granted back. */
  private toGrant = 0
  private readonly grantEvery: number
  private lastSent = now()
  /**
   * How long the peer has been silent, counting only time this side could listen: reset by every message, grown by
   * each heartbeat check by the time since the previous check or message, at most two check periods (see
   * {@link tick}).
   */
  private silentMs = 0
  private lastCheck = now()
  private readonly period: number
  private readonly stopClock: () => void
  private creditWaiters: (() => void)[] = []
  private closedFlag = false
  private failed = false
  events: LinkEvents | undefined

  constructor(private readonly options: LinkOptions) {
    this.credit = options.peerWindow
    this.turn = turnOf(options.nc)
    this.grantEvery = Math.max(1, Math.ceil(options.window / 4))
    this.period = Math.max(5, Math.min(options.heartbeatMs / 2, options.heartbeatTimeoutMs / 4))
    this.stopClock = everyPeriod(options.nc, this.period, this)
  }

  /** True once closed (locally, or because it failed). */
  get closed(): boolean {
    return this.closedFlag
  }

  /** Credited frames received and not yet consumed by this side. */
  get backlog(): number {
    return this.unconsumed
  }

  /** Frames this side may still send before it must wait for credit. */
  get sendCredit(): number {
    return this.credit
  }

  /** Handles one message from the session subject. */
  receive(data: Uint8Array): void {
    if (this.closedFlag) return
    let env
    try {
      env = decodeEnvelope(data)
    } catch (err) {
      this.events?.junk(err as MalformedMessageError)
      return
    }
    if (env.type !== MessageType.batch) {
      this.handle(env)
      return
    }
    let messages: Envelope[]
    try {
      messages = decodeBatch(env)
    } catch (err) {
      // A batch is a session message: its frames would be lost, so the session cannot go on.
      this.failWith(new MalformedMessageError(`${this.options.where}: ${(err as Error).message}`, { cause: err }))
      return
    }
    for (const message of messages) {
      if (this.closedFlag) return
      this.handle(message)
    }
  }

  /** Handles one session message (alone or out of a batch): checks its number, then acts on it. */
  private handle(env: Envelope): void {
    if (env.seq !== this.recvSeq) {
      this.failWith(new GapDetectedError(this.recvSeq, env.seq, this.options.where))
      return
    }
    this.recvSeq = (this.recvSeq + 1) >>> 0
    this.silentMs = 0
    this.lastCheck = now()
    switch (env.type) {
      case MessageType.frame:
      case MessageType.upstream: {
        let frame: Frame
        try {
          frame = this.options.codec.decode(env.flags as Codec, env.payload)
        } catch (err) {
          this.failWith(new MalformedMessageError(`${this.options.where}: frame #${env.seq} cannot be decoded: ${(err as Error).message}`, { cause: err }))
          return
        }
        if (env.type === MessageType.upstream) {
          this.events?.upstream(frame)
          return
        }
        if (costsCredit(frame)) {
          if (this.unconsumed >= this.options.window) {
            this.failWith(new MalformedMessageError(`${this.options.where}: the peer sent past its credit (window ${this.options.window})`))
            return
          }
          this.unconsumed++
        }
        this.events?.frame(frame, env.arg)
        return
      }
      case MessageType.credit:
        this.credit += env.arg
        this.wakeCreditWaiters()
        return
      case MessageType.heartbeat:
        return
      case MessageType.interrupt:
        this.events?.interrupt()
        return
      case MessageType.close:
        this.events?.close(env.flags as CloseReason, decoder.decode(env.payload))
        return
      case MessageType.batch:
        return // never reached: batches are unpacked by receive()
    }
  }

  /**
   * Sends a downstream frame (taking credit when it costs some: check {@link sendCredit} or await
   * {@link waitCredit} first). Throws a `FrameEncodeError` (nothing sent) for a frame that cannot be written or is
   * larger than the server's maximum payload. Returns false when the link is closed.
   */
  sendFrame(frame: Frame, epoch = 0): boolean {
    const { codec, bytes } = this.encode(frame)
    if (costsCredit(frame)) this.credit--
    return this.send(MessageType.frame, codec, epoch, bytes)
  }

  /** Sends an upstream frame (never takes credit). Throws like {@link sendFrame}. */
  sendUpstream(frame: Frame): boolean {
    const { codec, bytes } = this.encode(frame)
    return this.send(MessageType.upstream, codec, 0, bytes)
  }

  /** Tells the worker that the caller's pipeline was interrupted. */
  sendInterrupt(): boolean {
    return this.send(MessageType.interrupt, 0, 0)
  }

  /**
   * Tells the caller the output is complete while the link stays open: frames pushed upstream after the caller's
   * stage still reach the session's stages until the caller leaves.
   */
  sendDone(): void {
    this.send(MessageType.close, CloseReason.done, 0)
    this.flushOutbox()
  }

  /** Tells the peer this side leaves, then closes the link. */
  sendClose(reason: CloseReason, message = ''): void {
    this.send(MessageType.close, reason, 0, encoder.encode(message))
    // Hand everything to the client now: the connection may be drained right after the session ends.
    this.flushOutbox()
    this.close()
  }

  /**
   * Resolves true once there is credit to send a credited frame, false when the link closes or `signal` aborts first.
   */
  waitCredit(signal?: AbortSignal): Promise<boolean> | true {
    if (this.credit > 0 && !this.closedFlag) return true
    if (this.closedFlag || signal?.aborted === true) return Promise.resolve(false)
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.creditWaiters = this.creditWaiters.filter((w) => w !== wake)
        resolve(false)
      }
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve(this.credit > 0 && !this.closedFlag)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.creditWaiters.push(wake)
    })
  }

  /** The local consumer took `count` credited frames: grants them back to the peer (in batches). */
  consumed(count = 1): void {
    this.unconsumed = Math.max(0, this.unconsumed - count)
    this.toGrant += count
    if (this.toGrant >= this.grantEvery) {
      const n = this.toGrant
      this.toGrant = 0
      this.send(MessageType.credit, 0, n)
    }
  }

  /** Stops the timers and wakes every waiter; sends nothing. Idempotent. */
  close(): void {
    if (this.closedFlag) return
    this.closedFlag = true
    this.stopClock()
    this.wakeCreditWaiters()
  }

  private encode(frame: Frame): { codec: Codec; bytes: Uint8Array } {
    const out = this.options.codec.encode(frame)
    const max = this.options.nc.info?.max_payload
    if (max !== undefined && out.bytes.byteLength + 10 > max) {
      throw new FrameEncodeError(
        this.options.codec.format,
        frame.type,
        `${frame.name} takes ${out.bytes.byteLength} bytes, more than the NATS server's max_payload (${max})`,
      )
    }
    return out
  }

  private send(type: MessageType, flags: number, arg: number, payload?: Uint8Array): boolean {
    if (this.closedFlag) return false
    const seq = this.sendSeq
    this.sendSeq = (seq + 1) >>> 0
    this.lastSent = now()
    if (this.outbox === undefined) {
      // The first message on a quiet connection in this turn leaves at once; the others wait for the end of the turn
      // and leave together (see ConnectionTurn).
      if (this.turn.first()) return this.publish(encodeEnvelope(type, flags, seq, arg, payload))
      this.outbox = new Outbox()
      this.outboxSeq = seq
      this.turn.later(this.flushOutbox)
    }
    this.outbox.push(type, flags, arg, payload)
    return true
  }

  private readonly turn: ConnectionTurn
  /** Messages held until the end of the turn, in order. */
  private outbox: Outbox | undefined
  /** The sequence number of the outbox's first message. */
  private outboxSeq = 0
  /**
   * Sends the outbox: runs of messages as batches of at most {@link MAX_BATCH_BYTES} (and the server's max_payload),
   * a message alone when it is the only one or too large to share a batch.
   */
  private readonly flushOutbox = (): void => {
    const outbox = this.outbox
    this.outbox = undefined
    if (outbox === undefined || outbox.length === 0) return
    const limit = Math.min(MAX_BATCH_BYTES, this.options.nc.info?.max_payload ?? MAX_BATCH_BYTES)
    let seq = this.outboxSeq
    let from = 0
    let size = HEADER_BYTES
    for (let i = 0; i < outbox.length; i++) {
      const bytes = outbox.batchedSize(i)
      if (i > from && size + bytes > limit) {
        if (!this.publish(outbox.encode(from, i, seq))) return
        seq = (seq + i - from) >>> 0
        from = i
        size = HEADER_BYTES
      }
      size += bytes
    }
    this.publish(outbox.encode(from, outbox.length, seq))
  }

  private publish(bytes: Uint8Array): boolean {
    try {
      this.options.nc.publish(this.options.peer, bytes)
      return true
    } catch (err) {
      this.failWith(this.options.lost('connection', err))
      return false
    }
  }

  /**
   * The heartbeat check, every check period (on the connection's shared clock, see `heartbeat-clock.ts`). A check that comes late means this process's event loop was held up (a long synchronous
   * stretch, or no CPU for it on a loaded machine): the timers run before the socket is read, so the peer's messages
   * of that stretch may be waiting unread. Such a stretch counts as two check periods of silence at most — the peer
   * is judged on the time this side could hear it, never on this side's own stall.
   */
  tick(): void {
    if (this.closedFlag) return
    const t = now()
    this.silentMs += Math.min(t - this.lastCheck, 2 * this.period)
    this.lastCheck = t
    if (this.silentMs > this.options.heartbeatTimeoutMs) {
      this.failWith(this.options.lost('heartbeat'))
      return
    }
    if (t - this.lastSent >= this.options.heartbeatMs / 2) this.send(MessageType.heartbeat, 0, 0)
  }

  private failWith(error: RemoteSessionError): void {
    if (this.closedFlag || this.failed) return
    this.failed = true
    // The owner may still tell the peer why (sendClose) before the link closes.
    try {
      this.events?.fail(error)
    } finally {
      this.close()
    }
  }

  private wakeCreditWaiters(): void {
    const waiters = this.creditWaiters
    if (waiters.length === 0) return
    this.creditWaiters = []
    for (const wake of waiters) wake()
  }
}

export { CloseReason }
