/**
 * A pool of worker threads that handle frames (on piscina): one pool task per frame, byte buffers moved both ways.
 * @module
 */
import type { ResourceLimits } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { Frame } from '../frames/types.js'
import { WorkerError, WorkerModuleError } from './errors.js'
import { packFrame, unpackFrame } from './frame-transfer.js'
import type { ThreadData, ThreadReply, ThreadRequest } from './protocol.js'

/** The thread code next to this module (`thread.js` once built; `thread.ts` when running from the sources). */
const THREAD_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './thread.ts' : './thread.js', import.meta.url).href

/** What a {@link FramePool} is made of. */
export interface FramePoolOptions {
  readonly moduleUrl: string
  readonly exportName: string
  readonly threads: number
  readonly execArgv?: readonly string[]
  readonly resourceLimits?: ResourceLimits
  /** Called when a thread fails outside any frame's work (the pool replaces it). */
  readonly onThreadError: (error: WorkerError) => void
}

const PROBE: ThreadRequest = { probe: true }

function toWorkerError(reply: Extract<ThreadReply, { ok: false }>): WorkerError {
  const f = reply.failure
  return new WorkerError(f.message, { remoteName: f.name, fatal: f.fatal, ...(f.stack === undefined ? {} : { stack: f.stack }) })
}

/** A started pool of threads running one handler. */
export class FramePool {
  private readonly piscina: Piscina<ThreadRequest, ThreadReply>
  private closing: Promise<void> | undefined
  private started = false
  /** Settles when every thread can handle frames; rejects with a {@link WorkerModuleError} when they cannot. */
  readonly ready: Promise<void>

  constructor(options: FramePoolOptions) {
    const workerData: ThreadData = { moduleUrl: options.moduleUrl, exportName: options.exportName }
    this.piscina = new Piscina<ThreadRequest, ThreadReply>({
      filename: THREAD_ENTRY,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      // No per-task timing histogram: it costs the calling thread on every frame and nothing reads it.
      recordTiming: false,
      workerData,
      ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
    })
    let failStart: ((err: unknown) => void) | undefined
    const startFailed = new Promise<never>((_, reject) => (failStart = reject))
    // A thread that fails while no frame is on it (e.g. its code cannot load, or an error thrown later from a timer
    // of the handler): before the start it fails the start; after, it is reported and piscina replaces the thread.
    this.piscina.on('error', (err: unknown) => {
      if (this.closing !== undefined) return
      const message = err instanceof Error ? err.message : String(err)
      if (!this.started) failStart?.(new WorkerModuleError(`the worker threads failed to start: ${message}`, { cause: err }))
      else options.onThreadError(new WorkerError(`a worker thread failed: ${message}`, { cause: err }))
    })
    // One probe per thread (each idle thread takes one), so every thread has imported the handler before the first frame.
    const probes = Array.from({ length: options.threads }, () => this.piscina.run(PROBE))
    const probe = Promise.all(probes).then(
      (replies) => {
        const reply = replies.find((r) => !r.ok)
        if (reply !== undefined && !reply.ok) {
          const f = reply.failure
          throw new WorkerModuleError(`cannot load the handler "${options.exportName}" of ${options.moduleUrl}: ${f.message}`, { cause: toWorkerError(reply) })
        }
      },
      (err: unknown) => {
        throw new WorkerModuleError(`the worker threads failed to start: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      },
    )
    this.ready = Promise.race([probe, startFailed]).then(() => {
      this.started = true
    })
    // Observed here so that a pool closed before it started leaves no unhandled rejection; users await `ready`.
    this.ready.catch(() => undefined)
  }

  /**
   * Handles `frame` in a thread and returns the frames the handler produced, rebuilt on this thread (the input frame
   * returned as received keeps its id and name; other frames get fresh ones). With `move`, the input's byte buffers
   * are moved to the thread (detached here).
   */
  async process(frame: Frame, move: boolean): Promise<Frame[]> {
    // A closed piscina would start fresh threads for new work: refuse it instead.
    if (this.closing !== undefined) throw new WorkerError('the worker threads are shut down')
    const transfer = new Set<ArrayBuffer>()
    const record = packFrame(frame, move, transfer)
    const reply = await this.piscina.run({ frame: record }, { transferList: [...transfer] })
    if (!reply.ok) throw toWorkerError(reply)
    const out: Frame[] = []
    for (let i = 0; i < reply.outputs.length; i++) {
      let next: Frame
      try {
        next = unpackFrame(reply.outputs[i], reply.same[i] === true ? frame : undefined)
      } catch (err) {
        throw new WorkerError(`the handler returned a bad frame: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
      out.push(next)
    }
    return out
  }

  /** Terminates every thread (running work is cut off, queued work rejected). Idempotent; settles when all exited. */
  close(): Promise<void> {
    this.closing ??= this.piscina.destroy()
    return this.closing
  }
}
