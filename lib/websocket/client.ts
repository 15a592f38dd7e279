/**
 * The WebSocket client, for browsers and Node: `connect(url)` opens a connection to a pipeline served with
 * `serve()` and returns it as an it-* duplex `{ source, sink }`. Browser-safe: no Node API, no `ws` import.
 * @module
 */
import { end as endFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { jsonSerializer } from '../wire/json.js'
import type { FrameSerializer } from '../wire/serializer.js'
import { CloseCode, closeReason } from './close-codes.js'
import { WebSocketClosedError } from './errors.js'
import { MAX_PLAYED_IDS, carriesLifecycle, interruptionRequest, isInterruptionRequest, playedAck, subprotocolFor } from './protocol.js'
import { ReceiveQueue } from './receive-queue.js'
import { OPEN, type CloseEventLike, type MessageEventLike, type WebSocketConstructor, type WebSocketLike } from './socket-like.js'

/** Options of {@link connect}. */
export interface ConnectOptions {
  /**
   * The wire format; it must be one the server accepts. Default `jsonSerializer()` (carries every frame, `end` and
   * `cancel` included). With `protobufSerializer()` (what Python clients speak) only text, audio, image and
   * interruption frames travel: the sink skips the others, and the end of input is the closing of the connection.
   */
  readonly serializer?: FrameSerializer
  /** The WebSocket constructor. Default: `globalThis.WebSocket` (the Node entry point defaults to the `ws` package). */
  readonly WebSocket?: WebSocketConstructor
  /** `send`/`sink` wait while the socket holds more than this many bytes not yet sent. Default 1 MiB. */
  readonly highWaterMark?: number
  /**
   * Received frames queued for the reader of `source` before the client stops reading the socket (sockets with
   * `pause()`, like the `ws` package's). Default 256.
   */
  readonly receiveCapacity?: number
  /**
   * For sockets that cannot pause (browsers): received frames queued before the connection is closed (1008) and
   * `source` fails, rather than growing without bound. Default 16384.
   */
  readonly maxReceiveQueue?: number
  /** After `interrupt()`, data frames are dropped until the server's `startInterruption`, or for at most this long. Default 5000 ms. */
  readonly interruptAckTimeoutMs?: number
  /** Time allowed for the opening handshake. Default 10000 ms. */
  readonly openTimeoutMs?: number
  /** Aborting it closes the connection (code 1000). */
  readonly signal?: AbortSignal
}

/** How a connection closed. */
export interface CloseInfo {
  readonly code: number
  readonly reason: string
}

/**
 * A connection to a served pipeline, as an it-* duplex.
 *
 * - `source`: the frames the server pipeline outputs (one reader). It ends when the server closes with 1000 or 1001,
 *   and throws a {@link WebSocketClosedError} for any other close code, after the frames received before it.
 *   Breaking out of it closes the connection.
 * - `sink(frames)`: sends every frame with backpressure (waits while the socket's `bufferedAmount` is above the high
 *   water mark), then `end` when the format carries it and `frames` had none. An interruption request in `frames`
 *   acts like `interrupt()`.
 * - `interrupt()`: asks the server to interrupt; frames received from before it are dropped (see `source`).
 */
export interface FrameConnection {
  readonly source: AsyncIterable<Frame>
  sink(frames: AsyncIterable<Frame> | Iterable<Frame>): Promise<void>
  /** Sends one frame (waits while the socket is above the high water mark); throws `FrameEncodeError` if the format cannot carry it. */
  send(frame: Frame): Promise<void>
  /**
   * Interrupts the server pipeline: sends an interruption request, drops the data and app frames queued in `source`
   * and those still arriving until the server's `startInterruption` acknowledges it.
   */
  interrupt(): void
  /**
   * Reports frames received from `source` as played (they reached the user): a server serving with
   * `delivery: 'played'` counts only those as delivered in its interruption report. Needs a format that carries app
   * frames (JSON): throws a `FrameEncodeError` with protobuf. Does nothing once the connection is closed.
   */
  played(frames: Frame | readonly Frame[]): void
  /** Closes the connection; resolves once closed. */
  close(code?: number, reason?: string): Promise<CloseInfo>
  /** Resolves (never rejects) once the connection is closed. */
  readonly closed: Promise<CloseInfo>
  /** The wire format in use (`'json'`, `'protobuf'`). */
  readonly format: string
  /** Data and app frames dropped because an interruption made them stale. */
  readonly droppedStale: number
}

const POLL_MS = 5

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TypeError(`connect(options).${name} must be a positive number`)
  return value
}

/**
 * Opens a connection to a pipeline served with `serve()` (or any server speaking the same format); resolves once
 * the socket is open, rejects with a {@link WebSocketClosedError} when it cannot be opened.
 *
 * @example
 * ```ts
 * import { Frames } from 'apipeline-ts'
 * import { connect } from 'apipeline-ts/websocket'
 *
 * const conn = await connect('ws://127.0.0.1:8080')
 * void conn.sink([Frames.text('hello')]) // then `end`
 * for await (const frame of conn.source) console.log(Frames.format(frame))
 * ```
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<FrameConnection> {
  if (options === null || typeof options !== 'object') throw new TypeError('connect(options) must be an object')
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (typeof Ctor !== 'function') {
    throw new TypeError('connect(): no global WebSocket in this runtime; pass { WebSocket } (e.g. from the ws package)')
  }
  const serializer = options.serializer ?? jsonSerializer()
  const highWaterMark = positive('highWaterMark', options.highWaterMark, 1024 * 1024)
  const receiveCapacity = positive('receiveCapacity', options.receiveCapacity, 256)
  const maxReceiveQueue = positive('maxReceiveQueue', options.maxReceiveQueue, 16384)
  const ackTimeoutMs = positive('interruptAckTimeoutMs', options.interruptAckTimeoutMs, 5000)
  const openTimeoutMs = positive('openTimeoutMs', options.openTimeoutMs, 10000)
  const protocol = subprotocolFor(serializer)
  const socket = protocol === undefined ? new Ctor(String(url)) : new Ctor(String(url), protocol)
  socket.binaryType = 'arraybuffer'
  const connection = new Connection(socket, serializer, highWaterMark, receiveCapacity, maxReceiveQueue, ackTimeoutMs)
  await connection.opened(openTimeoutMs, protocol, options.signal)
  return connection
}

class Connection implements FrameConnection {
  readonly closed: Promise<CloseInfo>
  readonly format: string
  private readonly queue: ReceiveQueue
  private readonly sendsLifecycle: boolean
  private closeInfo: CloseInfo | undefined
  private resolveClosed!: (info: CloseInfo) => void
  private paused = false
  private removeAbort: (() => void) | undefined

  constructor(
    private readonly socket: WebSocketLike,
    private readonly serializer: FrameSerializer,
    private readonly highWaterMark: number,
    receiveCapacity: number,
    private readonly maxReceiveQueue: number,
    private readonly ackTimeoutMs: number,
  ) {
    this.format = serializer.format
    this.sendsLifecycle = carriesLifecycle(serializer)
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
    this.queue = new ReceiveQueue(
      receiveCapacity,
      () => this.pauseReading(),
      () => this.resumeReading(),
      () => void this.close(CloseCode.normal, 'client stopped reading'),
    )
    socket.addEventListener('message', (event: MessageEventLike) => this.onMessage(event.data))
    socket.addEventListener('close', (event: CloseEventLike) => this.onClose(event.code, event.reason))
    // A socket error is always followed by a close event, which ends the connection; without a listener the `ws`
    // package would throw it as an uncaught exception.
    socket.addEventListener('error', () => {})
  }

  get source(): AsyncIterable<Frame> {
    return this.queue
  }

  get droppedStale(): number {
    return this.queue.dropped
  }

  opened(timeoutMs: number, protocol: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        this.socket.close(CloseCode.normal, 'aborted')
        reject(new WebSocketClosedError(CloseCode.abnormal, 'aborted before open'))
        return
      }
      const timer = setTimeout(() => {
        cleanup()
        this.socket.close(CloseCode.normal, 'open timeout')
        reject(new WebSocketClosedError(CloseCode.abnormal, `not open after ${timeoutMs} ms`))
      }, timeoutMs)
      const onOpen = (): void => {
        cleanup()
        if (protocol !== undefined && this.socket.protocol !== protocol) {
          this.socket.close(CloseCode.policy, 'subprotocol not accepted')
          reject(new WebSocketClosedError(CloseCode.abnormal, `the server did not accept subprotocol ${protocol}`))
          return
        }
        if (signal !== undefined) {
          const onAbort = (): void => void this.close(CloseCode.normal, 'aborted')
          signal.addEventListener('abort', onAbort, { once: true })
          this.removeAbort = () => signal.removeEventListener('abort', onAbort)
        }
        resolve()
      }
      const onFail = (): void => {
        cleanup()
        // The close event (if any) carries the code; a failed handshake is 1006.
        void this.closed.then((info) => reject(new WebSocketClosedError(info.code === CloseCode.normal ? CloseCode.abnormal : info.code, info.reason || 'connection failed')))
      }
      const cleanup = (): void => {
        clearTimeout(timer)
        this.socket.removeEventListener('open', onOpen)
        this.socket.removeEventListener('error', onFail)
        this.socket.removeEventListener('close', onFail)
      }
      this.socket.addEventListener('open', onOpen)
      this.socket.addEventListener('error', onFail)
      this.socket.addEventListener('close', onFail)
    })
  }

  async sink(frames: AsyncIterable<Frame> | Iterable<Frame>): Promise<void> {
    let endSent = false
    for await (const frame of frames) {
      if (this.closeInfo !== undefined) throw this.closedError()
      if (isInterruptionRequest(frame)) {
        this.interrupt()
        continue
      }
      if (!this.serializer.supports(frame)) continue
      await this.send(frame)
      if (frame.kind === 'control' && frame.type === 'end') {
        endSent = true
        break
      }
    }
    if (!endSent && this.sendsLifecycle && this.closeInfo === undefined) await this.send(endFrame())
  }

  async send(frame: Frame): Promise<void> {
    const data = this.serializer.serialize(frame)
    while (this.socket.bufferedAmount > this.highWaterMark && this.closeInfo === undefined) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
    if (this.closeInfo !== undefined || this.socket.readyState !== OPEN) throw this.closedError()
    this.socket.send(data)
  }

  played(frames: Frame | readonly Frame[]): void {
    const ids = (Array.isArray(frames) ? (frames as readonly Frame[]) : [frames as Frame]).map((f) => f.id)
    const messages: (Uint8Array | string)[] = []
    for (let i = 0; i < ids.length || i === 0; i += MAX_PLAYED_IDS) messages.push(this.serializer.serialize(playedAck(ids.slice(i, i + MAX_PLAYED_IDS))))
    if (this.closeInfo !== undefined || this.socket.readyState !== OPEN) return
    for (const data of messages) this.socket.send(data)
  }

  interrupt(): void {
    if (this.closeInfo !== undefined || this.socket.readyState !== OPEN) return
    this.queue.interrupt(this.ackTimeoutMs)
    this.socket.send(this.serializer.serialize(interruptionRequest(this.serializer)))
  }

  close(code: number = CloseCode.normal, reason = ''): Promise<CloseInfo> {
    if (this.closeInfo === undefined) {
      // The peer's close frame must get through, also when reading was paused.
      this.resumeReading()
      try {
        this.socket.close(code, closeReason(reason))
      } catch {
        this.socket.close()
      }
    }
    return this.closed
  }

  private onMessage(data: unknown): void {
    if (this.closeInfo !== undefined) return
    let frame: Frame
    try {
      frame = this.serializer.deserialize(data as ArrayBuffer | string)
    } catch (err) {
      // A server that sends what does not decode is broken: stop here rather than skip frames silently.
      this.fail(CloseCode.invalidPayload, 'message does not decode', err)
      return
    }
    this.queue.push(frame)
    if (!this.paused && this.queue.length > this.maxReceiveQueue) {
      this.fail(CloseCode.policy, `more than ${this.maxReceiveQueue} frames received and not read`)
    }
  }

  private fail(code: number, reason: string, cause?: unknown): void {
    this.queue.end(new WebSocketClosedError(code, reason, cause === undefined ? undefined : { cause }))
    this.resumeReading()
    this.socket.close(code, closeReason(reason))
  }

  private onClose(code: number, reason: string): void {
    if (this.closeInfo !== undefined) return
    this.closeInfo = { code, reason }
    this.removeAbort?.()
    this.removeAbort = undefined
    this.queue.end(code === CloseCode.normal || code === CloseCode.goingAway ? undefined : new WebSocketClosedError(code, reason))
    this.resolveClosed(this.closeInfo)
  }

  private closedError(): WebSocketClosedError {
    const info = this.closeInfo
    return new WebSocketClosedError(info?.code ?? CloseCode.abnormal, info?.reason ?? 'the connection is not open')
  }

  private pauseReading(): void {
    if (this.paused || typeof this.socket.pause !== 'function') return
    this.paused = true
    this.socket.pause()
  }

  private resumeReading(): void {
    if (!this.paused) return
    this.paused = false
    this.socket.resume?.()
  }
}
