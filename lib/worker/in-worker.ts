/**
 * `inWorker(moduleUrl, exportName, options)`: a processor whose per-frame work runs on a pool of worker threads.
 * @module
 */
import { availableParallelism } from 'node:os'
import { isAbsolute } from 'node:path'
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ResourceLimits } from 'node:worker_threads'
import { asContext } from '../core/context.js'
import { withInfo, type Processor } from '../core/processor.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { AppFrame, Frame } from '../frames/types.js'
import type { SyncPull } from '../core/stage.js'
import { orderedBatches } from './ordered-batches.js'
import { ThreadPool } from './thread-pool.js'

/** What a worker handler may return for one frame: a frame, several frames, or nothing (the frame is dropped). */
export type WorkerResult<A extends AppFrame = AppFrame> = Frame<A> | readonly Frame<A>[] | null | undefined

/**
 * The function a worker module exports for {@link inWorker}: called in a worker thread with each matching frame
 * (its `id` and `name` are those of the frame on the calling thread). Return the input frame itself to pass it on
 * with its identity; frames you create get a fresh identity on the calling thread. The byte buffers of the frames you
 * return are moved out of the thread: do not keep them.
 * @example
 * ```ts
 * // gain.ts, loaded in the threads
 * import { Frames } from 'apipeline-ts'
 * import type { WorkerHandler } from 'apipeline-ts/worker'
 *
 * export const gain: WorkerHandler = (frame) => {
 *   if (frame.kind !== 'data' || frame.type !== 'audioRaw') return frame
 *   const samples = new Int16Array(frame.audio.buffer, frame.audio.byteOffset, frame.audio.byteLength >> 1)
 *   for (let i = 0; i < samples.length; i++) samples[i] = Math.max(-32768, Math.min(32767, (samples[i] ?? 0) * 2))
 *   return frame
 * }
 * ```
 */
export type WorkerHandler<A extends AppFrame = AppFrame> = (frame: Frame<A>) => WorkerResult<A> | Promise<WorkerResult<A>>

/** Options of {@link inWorker}. */
export interface InWorkerOptions {
  /** Worker threads of the stage. Default: the available parallelism minus one (at least 1), leaving a core to the event loop. */
  readonly threads?: number
  /**
   * Frames handed to the threads at once (running, or waiting in a thread); reading the source waits once as many
   * again are waiting here. Default `16 * threads`.
   */
  readonly maxInFlight?: number
  /**
   * Frames sent to a thread in one message at most. Frames already there when a thread has room go together (one
   * `postMessage` and one answer for all of them); a frame that arrives alone goes alone, at once. Default
   * `maxInFlight / (2 * threads)`, rounded up.
   */
  readonly maxBatch?: number
  /** Which frames the handler gets; the others pass in order (system frames at once). Default: data frames. */
  readonly match?: (frame: Frame) => boolean
  /**
   * Move the byte buffers of frames sent to the threads instead of copying them (default true). A moved buffer is
   * detached on the calling thread: set `false` when the same frame is also read elsewhere (e.g. by a `parallel`
   * branch next to this stage), or when its bytes are a view into a buffer you keep using — such views are copied in
   * any case, only whole buffers are moved.
   */
  readonly transfer?: boolean
  /** Display name. Default `inWorker(<export>)`, or `inWorker(<module file>)` for the default export. */
  readonly name?: string
  /** Node options of the threads, e.g. a loader so that a TypeScript handler module can be imported. Default: the process's. */
  readonly execArgv?: readonly string[]
  /** Memory limits of each thread. */
  readonly resourceLimits?: ResourceLimits
}

function positive(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${where} must be an integer >= 1, got ${String(value)}`)
  }
  return value
}

/** The module's URL as a string; a `file:` module must exist. */
function moduleHref(moduleUrl: unknown): string {
  let url: URL
  if (moduleUrl instanceof URL) url = moduleUrl
  else if (typeof moduleUrl === 'string' && isAbsolute(moduleUrl)) url = pathToFileURL(moduleUrl)
  else if (typeof moduleUrl === 'string' && /^(file|data):/i.test(moduleUrl)) url = new URL(moduleUrl)
  else {
    throw new TypeError(
      `inWorker(moduleUrl) must be a file: URL (e.g. new URL('./stage.js', import.meta.url)) or an absolute path, got ${typeof moduleUrl === 'string' ? JSON.stringify(moduleUrl) : typeof moduleUrl}`,
    )
  }
  if (url.protocol !== 'file:' && url.protocol !== 'data:') throw new TypeError(`inWorker(moduleUrl) must be a file: or data: URL, got ${url.protocol} URL`)
  if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) throw new TypeError(`inWorker(moduleUrl): no module at ${url.href}`)
  return url.href
}

/** Resolves true once `ready` settles, false when `signal` aborts first; rejects when `ready` rejects first. */
function readyUnlessAborted(ready: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise<boolean>((resolve, reject) => {
    const onAbort = (): void => resolve(false)
    signal.addEventListener('abort', onAbort, { once: true })
    ready.then(
      () => {
        signal.removeEventListener('abort', onAbort)
        resolve(true)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true }

function defaultName(href: string, exportName: string): string {
  if (exportName !== 'default') return `inWorker(${exportName})`
  const file = href.startsWith('file:') ? (href.split('/').pop() ?? href).replace(/\.[cm]?[jt]s$/, '') : 'data'
  return `inWorker(${file})`
}

/**
 * A processor whose per-frame work runs on a pool of worker threads, so CPU-bound work (resampling, voice activity
 * detection, encoding) does not block the event loop and every other session of the process. `moduleUrl` is the
 * module (a `file:` URL or an absolute path) whose export `exportName` is a {@link WorkerHandler}; each thread imports
 * it once.
 *
 * Each run of the stage starts its own threads (Node's `worker_threads`, spoken to through their message ports) before
 * it reads its first frame and shuts them down when it finishes: at `end`, on cancel, on stop and on an early `break`.
 * A module or export that cannot be loaded makes the stage fail before reading anything (a fatal `WorkerModuleError`).
 *
 * | frame | downstream | upstream |
 * |---|---|---|
 * | system | passes at once (ahead of frames in the threads) | passes |
 * | control (`start`, `end`, …) | waits for the results before it, then passes: `end` drains the threads | passes |
 * | data (default `match`) | handled in a thread; results in input order | passes |
 * | app | passes in order (or handled in a thread, if `match` says so) | passes |
 *
 * - **Batches**: the frames already read when a thread has room go to it together, up to `maxBatch` in one message,
 *   and come back in one message; a frame that arrives alone goes at once, alone. Each batch goes to the thread with
 *   the fewest frames; a thread handles its frames one after the other.
 * - At most `maxInFlight` frames are in the threads at once, and as many again wait here; reading the source waits
 *   beyond that (backpressure).
 * - Byte buffers (`audioRaw.audio`, `imageRaw.image`, typed arrays in app data) are moved to the thread and back
 *   (transfer lists), not copied; see {@link InWorkerOptions.transfer}.
 * - An exception in the handler drops that frame and sends an `error` frame upstream naming the stage and the frame,
 *   as a `WorkerError` carrying the thread's stack (fatal when the thrown error was fatal); the other frames of its
 *   batch go on. A thread that dies (`process.exit()`, an uncaught error) fails the frame it was handling the same
 *   way and hands the frames it had not started back, to a fresh thread.
 * - On an interruption, the frames read before it are not emitted: those not sent yet are dropped, those in a thread
 *   and not started yet are skipped there, and the results of those running are dropped (an error in one is still
 *   reported); `startInterruption` passes ahead and frames read after it are handled as usual.
 * - On cancel the threads are terminated at once, also in the middle of a frame; the rest of their batches never runs.
 *
 * @example
 * ```ts
 * import { Frames, pipeline, run } from 'apipeline-ts'
 * import { inWorker } from 'apipeline-ts/worker'
 *
 * const bot = pipeline(inWorker(new URL('./gain.js', import.meta.url), 'gain', { threads: 2 }), vad, stt)
 * for await (const frame of run(bot, input)) console.log(Frames.format(frame))
 * ```
 */
export function inWorker(moduleUrl: string | URL, exportName = 'default', options: InWorkerOptions = {}): Processor {
  const href = moduleHref(moduleUrl)
  if (typeof exportName !== 'string' || exportName.length === 0) throw new TypeError('inWorker(exportName) must be a non-empty string')
  if (typeof options !== 'object' || options === null) throw new TypeError('inWorker(options) must be an object')
  const threads = positive('inWorker threads', options.threads, Math.max(1, availableParallelism() - 1))
  const maxInFlight = positive('inWorker maxInFlight', options.maxInFlight, 16 * threads)
  const maxBatch = positive('inWorker maxBatch', options.maxBatch, Math.ceil(maxInFlight / (2 * threads)))
  const match = options.match ?? ((f: Frame) => f.kind === 'data')
  if (typeof match !== 'function') throw new TypeError('inWorker match must be a function')
  const move = options.transfer ?? true
  if (typeof move !== 'boolean') throw new TypeError('inWorker transfer must be a boolean')
  const name = options.name ?? defaultName(href, exportName)
  const { execArgv, resourceLimits } = options

  const processor: Processor = (source, ctx) => {
    const c = asContext(ctx, name)
    const cancelled = c.cancelSignal
    let failure: { readonly value: unknown } | undefined
    let pool: ThreadPool | undefined
    let flow: ReturnType<typeof orderedBatches> | undefined
    let starting: Promise<boolean> | undefined
    let closing: Promise<void> | undefined
    /** Ends the flow and shuts the threads down (running work is cut off); idempotent. */
    const close = (): Promise<void> => {
      if (closing === undefined) {
        void flow?.output.return()
        closing = pool === undefined ? Promise.resolve() : pool.close()
      }
      return closing
    }
    /** Starts the threads; false when the stage was cancelled or closed before they were ready. */
    const start = async (): Promise<boolean> => {
      if (cancelled.aborted) return false
      const threadPool = new ThreadPool({
        moduleUrl: href,
        exportName,
        threads,
        ...(execArgv === undefined ? {} : { execArgv }),
        ...(resourceLimits === undefined ? {} : { resourceLimits }),
        onThreadError: (err, fatal) => {
          if (fatal) {
            failure ??= { value: err }
            flow?.wake()
          } else c.pushUpstream(errorFrame(err.message, { fatal: false, processor: c.name, cause: err }))
        },
      })
      pool = threadPool
      if (!(await readyUnlessAborted(threadPool.ready, cancelled)) || closing !== undefined) return false
      flow = orderedBatches(source as AsyncIterable<Frame> | Iterable<Frame>, c, threadPool, { maxInFlight, maxBatch, match, move, failure: () => failure })
      return true
    }
    // The stage's output: the flow's, once the threads are ready; a frame it has ready can be taken without waiting.
    // Whatever way it ends (its end, cancel, stop, an early `break`), the threads are shut down; on cancel at once,
    // also in the middle of a frame.
    const output: AsyncIterableIterator<Frame> & SyncPull<Frame> = {
      async next(): Promise<IteratorResult<Frame>> {
        if (closing !== undefined) return DONE
        try {
          if (flow === undefined) {
            starting ??= start()
            if (!(await starting) || flow === undefined) {
              await close()
              return DONE
            }
          }
          const r = await (flow as NonNullable<typeof flow>).output.next()
          if (r.done === true) await close()
          return r
        } catch (err) {
          await close()
          throw err
        }
      },
      tryNext(): IteratorResult<Frame> | undefined {
        if (closing !== undefined || flow === undefined) return undefined
        const r = flow.output.tryNext()
        // The end goes through next(), which shuts the threads down first.
        return r === undefined || r.done === true ? undefined : r
      },
      async return(): Promise<IteratorResult<Frame>> {
        await close()
        return DONE
      },
      async throw(err: unknown): Promise<IteratorResult<Frame>> {
        await close()
        throw err
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
    return output
  }
  return withInfo(processor, { name })
}
