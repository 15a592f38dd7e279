/**
 * One WebSocket connection served as one session: one `PipelineTask`, frames decoded into its input queue (the
 * socket stops being read while the queue is full) and its output encoded onto the socket (the task's output stops
 * being read while the socket is above its high water mark).
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { RawData, WebSocket } from 'ws'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { PipelineTask, type PipelineParams, type TaskResult } from '../core/task.js'
import type { ProcessorFn } from '../core/processor.js'
import type { DeliveryMarker } from '../interruption/delivery.js'
import { isInterruptible } from '../interruption/uninterruptible.js'
import { FrameDecodeError, FrameEncodeError } from '../wire/errors.js'
import type { FrameSerializer } from '../wire/serializer.js'
import { CloseCode, closeCodeFor, closeReason } from './close-codes.js'
import { isInterruptionRequest, playedIds } from './protocol.js'

/** How long a closing connection may make no progress before it is cut off. */
const CLOSE_TIMEOUT_MS = 2000

/** What a session factory knows about the connection. */
export interface SessionInfo {
  /** Server-wide session number, from 1. */
  readonly id: number
  /** The HTTP upgrade request (headers, URL, socket). */
  readonly request: IncomingMessage
  /** The request path and query, e.g. `/chat?room=1`. */
  readonly url: string
  /** The peer's address. */
  readonly remoteAddress: string | undefined
  /** The wire format of this connection (`'protobuf'` or `'json'`). */
  readonly format: string
  /** What `authenticate` returned (`true` when there is no `authenticate` hook). */
  readonly auth: unknown
}

/** What a session factory returns: a processor, or a processor with the task's parameters. */
export type SessionSpec = ProcessorFn<any, any> | { readonly processor: ProcessorFn<any, any>; readonly params?: PipelineParams }

/**
 * Builds the pipeline of one session. Interruptions are allowed unless `params.allowInterruptions` is `false`.
 * @example
 * ```ts
 * const factory: SessionFactory = (info) => ({ processor: bot, params: { enableMetrics: info.format === 'json' } })
 * ```
 */
export type SessionFactory = (info: SessionInfo) => SessionSpec | Promise<SessionSpec>

/** What a session does when the client reads slower than the pipeline writes. */
export type SlowClientPolicy = 'wait' | 'drop' | 'close'

/** Counters of one session. */
export interface SessionStats {
  /** Messages received. */
  received: number
  /** Frames sent. */
  sent: number
  /** Messages that did not decode. */
  decodeErrors: number
  /** Output frames the format does not carry (e.g. `start`, `end` and `metrics` with protobuf). */
  skipped: number
  /** Data frames dropped for a slow client (`slowClient: 'drop'`). */
  dropped: number
  /** Frames received after the client's `end`, or after the task finished. */
  ignored: number
  /** Most messages ever waiting while the socket was paused. */
  maxPending: number
}

/** How a session ended. */
export interface SessionResult {
  /** The close code of the connection (see `CloseCode`). */
  readonly code: number
  readonly reason: string
  /** The task's result (`undefined` when the factory failed before a task existed). */
  readonly task: TaskResult | undefined
}

/** The session settings taken from the server options. */
export interface SessionSettings {
  readonly factory: SessionFactory
  readonly maxDecodeErrors: number
  readonly highWaterMark: number
  readonly slowClient: SlowClientPolicy
  readonly onError: (error: Error, session: WebSocketSession) => void
  readonly onDrop: ((frame: Frame, session: WebSocketSession) => void) | undefined
  /** When a frame counts as delivered: written to the socket, or reported played by the client. */
  readonly delivery: 'written' | 'played'
}

/** Frames written and waiting for the client's played acknowledgement, at most (the oldest are forgotten beyond). */
const MAX_UNPLAYED = 4096

/**
 * One connection, one task. Created by the server; passed to `onSession`.
 * @example
 * ```ts
 * import { serve } from 'apipeline-ts/websocket'
 *
 * const server = await serve({
 *   session: () => bot,
 *   onSession: (session) => void session.done.then((r) => console.log(session.id, r.code, r.task?.status)),
 * })
 * ```
 */
export class WebSocketSession {
  /** The session's task, once the factory returned. */
  task: PipelineTask | undefined
  readonly stats: SessionStats = { received: 0, sent: 0, decodeErrors: 0, skipped: 0, dropped: 0, ignored: 0, maxPending: 0 }
  /** Resolves once the socket is closed and the task has finished. */
  readonly done: Promise<SessionResult>
  /** Time (ms, `Date.now()`) a message or pong was last received. */
  lastSeen = Date.now()
  private resolveDone!: (r: SessionResult) => void
  private readonly pending: RawData[] = []
  private blocked = true
  private closeInfo: { code: number; reason: string } | undefined
  private closing = false
  private inputEnded = false
  private dropping = false
  private goingAway = false
  private closeTimer: ReturnType<typeof setTimeout> | undefined
  /** The code and reason this side closed with, if it started the closing handshake. */
  private sentClose: { code: number; reason: string } | undefined
  /** Resolves once the connection is closing or the task finished: a send waiting for the socket to drain stops. */
  private readonly stopWaiting: Promise<void>
  /** The delivery marks of the output (set while the output is sent). */
  private marks: DeliveryMarker | undefined
  /** With `delivery: 'played'`: frames written and not yet reported played, by id. */
  private readonly unplayed = new Map<number, Frame>()
  private resolveStopWaiting!: () => void

  constructor(
    readonly info: SessionInfo,
    private readonly ws: WebSocket,
    private readonly serializer: FrameSerializer,
    private readonly settings: SessionSettings,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve
    })
    this.stopWaiting = new Promise((resolve) => {
      this.resolveStopWaiting = resolve
    })
    ws.on('message', (data) => this.onMessage(data))
    ws.on('pong', () => {
      this.lastSeen = Date.now()
    })
    ws.on('error', (err) => this.settings.onError(err, this))
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()))
    // Nothing is read until the task exists.
    ws.pause()
  }

  get id(): number {
    return this.info.id
  }

  /** Bytes queued on the socket and not yet sent (the `ws` socket's `bufferedAmount`). */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  /** Builds the task from the factory and starts both directions. */
  async start(): Promise<void> {
    let task: PipelineTask
    try {
      const spec = await this.settings.factory(this.info)
      const { processor, params } = typeof spec === 'function' ? { processor: spec, params: undefined } : spec
      task = new PipelineTask(processor, { allowInterruptions: true, ...params, name: params?.name ?? `session#${this.id}` })
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      this.settings.onError(error, this)
      this.close(CloseCode.internalError, `session factory failed: ${error.message}`)
      this.finish(undefined)
      return
    }
    this.task = task
    const output = task.frames()
    const result = task.run()
    void result.then(() => this.resolveStopWaiting())
    if (this.closeInfo !== undefined) void task.cancel()
    this.pumpOutput(output, result).catch((err: unknown) => {
      // Not expected: the pump handles encode errors and socket states itself. Never leave the session hanging.
      this.settings.onError(err instanceof Error ? err : new Error(String(err)), this)
      this.close(CloseCode.internalError, 'internal error')
      void task.cancel().then((r) => this.finish(r))
    })
    this.unblock()
  }

  /** Pings the client, or terminates the connection when nothing was heard from it for `timeoutMs`. */
  heartbeat(now: number, timeoutMs: number): void {
    if (this.closeInfo !== undefined) return
    // Not reading the socket (the task's input queue is full): the client's pongs wait unread behind its data, and
    // the client is evidently alive.
    if (this.blocked && this.task !== undefined) {
      this.lastSeen = now
      return
    }
    if (now - this.lastSeen > timeoutMs) {
      this.ws.terminate()
      return
    }
    try {
      this.ws.ping()
    } catch {
      // The socket is closing; its close event ends the session.
    }
  }

  /**
   * Ends the session because the server is closing: `end` drains the task for up to `drainMs`, then it is
   * cancelled; the connection closes with 1001.
   */
  shutdown(drainMs: number): Promise<SessionResult> {
    this.goingAway = true
    const task = this.task
    if (task === undefined || task.hasFinished()) {
      this.close(CloseCode.goingAway, 'server closing')
    } else {
      task.stopWhenDone()
      const timer = setTimeout(() => void task.cancel(), drainMs)
      void this.done.then(() => clearTimeout(timer))
    }
    return this.done
  }

  private onMessage(data: RawData): void {
    this.lastSeen = Date.now()
    if (this.closing) return
    if (this.blocked || this.pending.length > 0) {
      this.pending.push(data)
      if (this.pending.length > this.stats.maxPending) this.stats.maxPending = this.pending.length
      return
    }
    const wait = this.handle(data)
    if (wait !== undefined) this.block(wait)
  }

  private block(wait: Promise<void>): void {
    this.blocked = true
    this.ws.pause()
    const unblock = (): void => this.unblock()
    wait.then(unblock, unblock)
  }

  private unblock(): void {
    this.blocked = false
    while (this.pending.length > 0) {
      const wait = this.handle(this.pending.shift() as RawData)
      if (wait !== undefined) {
        this.block(wait)
        return
      }
    }
    if (this.closeInfo === undefined) this.ws.resume()
  }

  /** Decodes one message and acts on it; returns a promise while the task's input queue is full. */
  private handle(data: RawData): Promise<void> | undefined {
    const task = this.task
    if (task === undefined || this.closeInfo !== undefined) return undefined
    this.stats.received++
    let frame: Frame
    try {
      frame = this.serializer.deserialize(Array.isArray(data) ? Buffer.concat(data) : data)
    } catch (err) {
      this.badMessage(task, err)
      return undefined
    }
    if (task.hasFinished() || this.inputEnded) {
      this.stats.ignored++
      return undefined
    }
    const played = playedIds(frame)
    if (played !== undefined) {
      this.onPlayed(played)
      return undefined
    }
    if (isInterruptionRequest(frame)) {
      if (!task.interrupt()) this.reportToClient(errorFrame(`${task.name}: interruptions are not allowed in this session`))
      return undefined
    }
    if (frame.kind === 'control' && frame.type === 'start') {
      this.stats.ignored++
      return undefined
    }
    if (frame.kind === 'control' && frame.type === 'end') this.inputEnded = true
    return task.pushFrame(frame)
  }

  /** The client played the frames with `ids`: delivered (with `delivery: 'played'`; ignored otherwise). */
  private onPlayed(ids: readonly number[]): void {
    const marks = this.marks
    if (marks === undefined || this.settings.delivery !== 'played') return
    for (const id of ids) {
      const frame = this.unplayed.get(id)
      if (frame === undefined) continue
      this.unplayed.delete(id)
      marks.delivered(frame)
    }
  }

  private badMessage(task: PipelineTask, err: unknown): void {
    this.stats.decodeErrors++
    const cause = err instanceof FrameDecodeError ? err : new FrameDecodeError(this.serializer.format, String(err), { cause: err })
    const message = `message ${this.stats.received} from the client does not decode: ${cause.message}`
    this.settings.onError(cause, this)
    task.handleUpstream(errorFrame(message, { processor: task.name, cause }))
    if (this.stats.decodeErrors > this.settings.maxDecodeErrors) {
      this.close(CloseCode.invalidPayload, `${this.stats.decodeErrors} messages did not decode`)
      void task.cancel()
    }
  }

  private reportToClient(frame: Frame): void {
    if (this.ws.readyState !== this.ws.OPEN || !this.serializer.supports(frame)) return
    this.ws.send(this.serializer.serialize(frame))
  }

  private async pumpOutput(output: AsyncIterable<Frame>, result: Promise<TaskResult>): Promise<void> {
    const task = this.task as PipelineTask
    // A frame reaches the user once it is written to the socket (the send callback, without error): only then is it
    // delivered for the interruption report. Frames taken but not written (the format does not carry them, they do
    // not encode, the connection is closing, a slow client's frame dropped) count as dropped.
    const marks = task.deliveryMarker()
    const marking = task.start.allowInterruptions
    const unplayed = this.unplayed
    const onWritten =
      this.settings.delivery === 'played'
        ? (frame: Frame): void => {
            // Delivered once the client reports it played.
            if (!isInterruptible(frame)) return
            unplayed.set(frame.id, frame)
            if (unplayed.size > MAX_UNPLAYED) unplayed.delete(unplayed.keys().next().value as number)
          }
        : (frame: Frame): void => marks.delivered(frame)
    const written = (frame: Frame): ((err?: Error) => void) | undefined =>
      marking
        ? (err) => {
            if (err === undefined || err === null) onWritten(frame)
          }
        : undefined
    this.marks = marks
    try {
      await this.sendOutput(output, task, marks, marking, written)
    } finally {
      this.marks = undefined
      unplayed.clear()
      marks.release()
    }
    const taskResult = await result
    if (this.goingAway) this.close(CloseCode.goingAway, 'server closing')
    else this.close(closeCodeFor(taskResult.status), taskResult.status === 'errored' ? `errored: ${taskResult.error?.error ?? ''}` : taskResult.status)
    this.finish(taskResult)
  }

  /** Writes the task's output to the socket, with the slow-client policy and delivery marks. */
  private async sendOutput(
    output: AsyncIterable<Frame>,
    task: PipelineTask,
    marks: DeliveryMarker,
    marking: boolean,
    written: (frame: Frame) => ((err?: Error) => void) | undefined,
  ): Promise<void> {
    const { highWaterMark, slowClient } = this.settings
    const ws = this.ws
    for await (const frame of output) {
      if (marking) marks.accept(frame)
      // The interrupted turn is being reported: what the client had not reported played by now was not heard (a
      // client reports played frames ahead of its interruption request, on the same ordered connection).
      if (frame.kind === 'system' && frame.type === 'startInterruption') this.unplayed.clear()
      if (this.closeInfo !== undefined || this.closing) continue
      if (!this.serializer.supports(frame)) {
        this.stats.skipped++
        continue
      }
      let data: Uint8Array | string
      try {
        data = this.serializer.serialize(frame)
      } catch (err) {
        const error = err instanceof Error ? err : new FrameEncodeError(this.serializer.format, frame.type, String(err))
        this.settings.onError(error, this)
        task.handleUpstream(errorFrame(`${task.name}: cannot send ${frame.name}: ${error.message}`, { processor: task.name, cause: error }))
        continue
      }
      if (ws.bufferedAmount > highWaterMark) {
        if (slowClient === 'close') {
          this.close(CloseCode.policy, `slow client: more than ${highWaterMark} bytes not sent`)
          void task.cancel()
          continue
        }
        if (slowClient === 'drop' && frame.kind === 'data') {
          this.stats.dropped++
          this.settings.onDrop?.(frame, this)
          if (!this.dropping) {
            this.dropping = true
            task.handleUpstream(errorFrame(`${task.name}: slow client, dropping data frames`, { processor: task.name }))
          }
          continue
        }
        // Wait until this frame (and so everything before it) has left the socket's buffers, or the session ends.
        const mark = written(frame)
        await Promise.race([
          new Promise<void>((resolve) =>
            ws.send(data, (err) => {
              mark?.(err)
              resolve()
            }),
          ),
          this.stopWaiting,
        ])
        this.stats.sent++
        continue
      }
      this.dropping = false
      const mark = written(frame)
      if (mark === undefined) ws.send(data)
      else ws.send(data, mark)
      this.stats.sent++
    }
  }

  /**
   * Starts the closing handshake (once). The close frame goes out after the data already queued; a client that
   * neither reads any of it nor answers for 2 s is cut off.
   */
  private close(code: number, reason: string): void {
    if (this.closing || this.closeInfo !== undefined) return
    this.closing = true
    this.sentClose = { code, reason: closeReason(reason) }
    this.resolveStopWaiting()
    this.pending.length = 0
    this.ws.close(code, closeReason(reason))
    // Read again, if paused: the client's close frame must get through.
    this.ws.resume()
    let left = this.ws.bufferedAmount
    const check = (): void => {
      const now = this.ws.bufferedAmount
      if (now > 0 && now < left) {
        left = now
        this.closeTimer = setTimeout(check, CLOSE_TIMEOUT_MS)
      } else this.ws.terminate()
    }
    this.closeTimer = setTimeout(check, CLOSE_TIMEOUT_MS)
  }

  private onClose(code: number, reason: string): void {
    // A client cut off after this side started closing (no answer to the close frame) still ended with our code.
    this.closeInfo = this.sentClose ?? { code, reason }
    this.resolveStopWaiting()
    this.pending.length = 0
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer)
    this.ws.resume()
    const task = this.task
    if (task !== undefined && !task.hasFinished()) void task.cancel()
  }

  private finish(taskResult: TaskResult | undefined): void {
    const settle = (): void => {
      const info = this.closeInfo ?? { code: CloseCode.abnormal, reason: '' }
      this.resolveDone({ code: info.code, reason: info.reason, task: taskResult })
    }
    if (this.closeInfo !== undefined) settle()
    else this.ws.once('close', settle)
  }
}
