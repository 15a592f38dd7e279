/**
 * `remote(url)`: a processor whose frames run through a pipeline served over WebSocket.
 * @module
 */
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { FatalError, InterruptedError } from '../errors.js'
import { named, type Processor } from '../core/processor.js'
import type { ProcessorContext } from '../core/context.js'
import { jsonSerializer } from '../wire/json.js'
import { connect, type ConnectOptions } from './client.js'
import { carriesLifecycle, isInterruptionRequest } from './protocol.js'
import { currentEpoch, stampEpoch } from '../interruption/epoch-stamp.js'
import { isInterruptible } from '../interruption/uninterruptible.js'

/** Options of {@link remote}: those of `connect`, plus the processor's display name. */
export interface RemoteOptions extends ConnectOptions {
  /** Display name of the processor (in error frames). Default `remote(<url>)`. */
  readonly name?: string
}

/**
 * A processor that runs its frames through a remote pipeline: each run opens one connection (one session on the
 * server), sends the input frames and yields the server pipeline's output. The rules of a local stage hold:
 *
 * - `start` passes first (the server's own `start` is not repeated); `end` is sent to the server, which drains its
 *   pipeline, and comes out after all of the remote output.
 * - An interruption (`startInterruption` in the input, or an `interruptionTask`) is sent to the server; the remote
 *   output from before it is dropped, and the server's `startInterruption` comes out ahead of newer output.
 * - Cancel or teardown closes the connection, which cancels the remote task.
 * - A frame the format cannot carry is reported upstream as a non-fatal `error` and skipped; a connection that
 *   closes before the remote pipeline finished is a fatal error.
 *
 * It needs a format that carries `end` (the default `jsonSerializer()`); with protobuf the end of the input could
 * not be told to the server, so `remote()` refuses it.
 *
 * @example
 * ```ts
 * import { Frames, pipeline, run } from 'apipeline-ts'
 * import { remote } from 'apipeline-ts/websocket'
 *
 * const bot = pipeline(remote('ws://127.0.0.1:8080'))
 * for await (const frame of run(bot, [Frames.text('hi')])) console.log(Frames.format(frame))
 * ```
 */
export function remote(url: string | URL, options: RemoteOptions = {}): Processor {
  if (options === null || typeof options !== 'object') throw new TypeError('remote(options) must be an object')
  const serializer = options.serializer ?? jsonSerializer()
  if (!carriesLifecycle(serializer)) {
    throw new TypeError(`remote(): the ${serializer.format} format cannot carry end; use jsonSerializer()`)
  }
  const connectOptions: ConnectOptions = { ...options, serializer }
  return named(options.name ?? `remote(${String(url)})`, async function* remoteProcessor(source: AsyncIterable<Frame>, ctx: ProcessorContext) {
    const conn = await connect(url, connectOptions)
    const input = source[Symbol.asyncIterator]()
    let pumpError: unknown
    let localEnd: Frame | undefined
    let stopped = false
    let watchTimer: ReturnType<typeof setTimeout> | undefined
    let unwatch: (() => void) | undefined
    // The local interruption epoch the remote output answers: the one of the last interruption request sent. The
    // connection drops what the server sent before it acknowledged a request; what it had handed over before the
    // request went out (also while the local interruption was on its way to the request) answers an older epoch.
    let answering = currentEpoch(ctx)
    // Cancel closes the connection at once, even while waiting for remote output; an interruption does not (the
    // signal is replaced by a fresh one, which is watched next).
    const watch = (): void => {
      watchTimer = undefined
      if (stopped) return
      const signal = ctx.signal
      const onAbort = (): void => {
        if (signal.reason instanceof InterruptedError) watchTimer = setTimeout(watch, 10)
        else void conn.close(1000, 'cancelled')
      }
      if (signal.aborted) onAbort()
      else {
        signal.addEventListener('abort', onAbort, { once: true })
        unwatch = () => signal.removeEventListener('abort', onAbort)
      }
    }
    watch()
    try {
      const first = await input.next()
      if (first.done === true) return
      const firstFrame = first.value
      const startedLocally = firstFrame.kind === 'control' && firstFrame.type === 'start'
      if (startedLocally) yield firstFrame
      const pump = async (): Promise<void> => {
        try {
          if (!startedLocally) await forward(firstFrame)
          for (;;) {
            if (stopped) return
            const r = await input.next()
            if (r.done === true || stopped) return
            if (await forward(r.value)) return
          }
        } catch (err) {
          pumpError = err
          void conn.close(1011, 'input failed')
        }
      }
      /** Sends one local frame; true once `end` is sent. */
      const forward = async (frame: Frame): Promise<boolean> => {
        if (frame.kind === 'control' && frame.type === 'start') return false
        if (frame.kind === 'system' && (frame.type === 'cancel' || frame.type === 'stopTask')) return false
        if (isInterruptionRequest(frame)) {
          answering = currentEpoch(ctx)
          conn.interrupt()
          return false
        }
        if (frame.kind === 'control' && frame.type === 'end') localEnd = frame
        try {
          await conn.send(frame)
        } catch (err) {
          if (err instanceof Error && err.name === 'FrameEncodeError') {
            ctx.pushUpstream(errorFrame(err, { processor: ctx.name, cause: err }))
            return false
          }
          throw err
        }
        return localEnd !== undefined
      }
      void pump()
      for await (const frame of conn.source) {
        if (frame.kind === 'control' && frame.type === 'start') continue
        if (frame.kind === 'control' && frame.type === 'end') {
          yield localEnd ?? frame
          return
        }
        // Stamped with the epoch it answers: the stage drops it if an interruption came since, also one that comes
        // while it is on its way out.
        yield isInterruptible(frame) ? stampEpoch(ctx, frame, answering) : frame
      }
      if (pumpError !== undefined) throw pumpError
      const info = await conn.closed
      // The remote task drained (its pipeline consumed `end` without passing it on).
      if (localEnd !== undefined && info.code === 1000 && info.reason === 'ended') {
        yield localEnd
        return
      }
      throw new FatalError(`${ctx.name}: the remote session closed before its end (code ${info.code}${info.reason === '' ? '' : `, ${info.reason}`})`)
    } finally {
      stopped = true
      if (watchTimer !== undefined) clearTimeout(watchTimer)
      unwatch?.()
      // Closing cancels the remote task; the close handshake is not awaited, so teardown never waits on the network.
      void conn.close(1000, 'done')
    }
  })
}
