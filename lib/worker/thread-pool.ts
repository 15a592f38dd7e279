/**
 * The threads of a worker-thread stage (Node's `worker_threads`, one message port each): batches of frames go to the
 * least busy thread with their byte buffers moved, each batch comes back as one message with an outcome per frame.
 * A thread that dies is replaced; the frames it held are reported lost.
 * @module
 */
import { Worker, type ResourceLimits } from 'node:worker_threads'
import type { Frame } from '../frames/types.js'
import { WorkerError, WorkerModuleError } from './errors.js'
import { decodeOutputs, encodeFrames, type DecodedOutcome } from './batch-codec.js'
import { unpackFrame } from './frame-transfer.js'
import { PROGRESS_BATCH, PROGRESS_FRAME, type BatchReply, type BatchRequest, type OtherOutcome, type ThreadData, type ThreadFailure, type ThreadMessage } from './protocol.js'

/** The thread code next to this module (`thread.js` once built; `thread.ts` when running from the sources). */
const THREAD_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './thread.ts' : './thread.js', import.meta.url)

/** Threads of every pool of the process: started so far, and running (started and not yet exited). */
const counts = { started: 0, running: 0 }

/** How many worker threads of worker-thread stages this process started, and how many still run (what a test checks after a run). */
export function threadCounts(): { readonly started: number; readonly running: number } {
  return { ...counts }
}

/** What a {@link ThreadPool} is made of. */
export interface ThreadPoolOptions {
  readonly moduleUrl: string
  readonly exportName: string
  readonly threads: number
  readonly execArgv?: readonly string[]
  readonly resourceLimits?: ResourceLimits
  /**
   * Called when a thread fails while it holds no frame (an error thrown later from a timer of the handler, …): the
   * thread is replaced. With `fatal`, the pool cannot go on (a replacement thread could not load the handler).
   */
  readonly onThreadError: (error: WorkerError | WorkerModuleError, fatal: boolean) => void
}

/**
 * What became of one frame sent to the threads: its outputs, an error, nothing (skipped, or lost and reported with
 * another frame), or `retry`: a dying thread handed the frame back unstarted (as `frame`, its bytes moved back) — send
 * it again.
 */
export type Outcome = { readonly frames: readonly Frame[] } | { readonly error: WorkerError } | { readonly dropped: true } | { readonly retry: Frame }

/** A batch sent to a thread and not answered yet. */
interface Sent {
  readonly seq: number
  readonly frames: readonly Frame[]
  readonly done: (outcomes: readonly Outcome[]) => void
}

interface Thread {
  readonly worker: Worker
  readonly progress: Int32Array
  /** Batches sent and not answered, oldest first (a thread answers in order). */
  readonly sent: Sent[]
  /** Frames in `sent`. */
  load: number
  ready: boolean
  exited: boolean
  /** Set once the thread said it is exiting (it then answers every batch it holds). */
  exiting?: number
  /** Set once a frame was reported as the one the thread died in. */
  diedIn?: Frame
  /** The uncaught error that is ending the thread, if any. */
  error?: unknown
}

const DROPPED: Outcome = { dropped: true }

function toWorkerError(f: ThreadFailure, frame?: Frame): WorkerError {
  return new WorkerError(frame === undefined ? f.message : `${f.message} (while handling ${frame.name})`, {
    remoteName: f.name,
    fatal: f.fatal,
    ...(frame === undefined ? {} : { frame }),
    ...(f.stack === undefined ? {} : { stack: f.stack }),
  })
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** A started set of threads running one handler. */
export class ThreadPool {
  private readonly threads: Thread[] = []
  private readonly epoch = new Int32Array(new SharedArrayBuffer(4))
  private seq = 0
  private started = false
  private closing: Promise<void> | undefined
  private failStart: ((err: WorkerModuleError) => void) | undefined
  private startStart: (() => void) | undefined
  /** Frames sent to the threads and not answered. */
  inFlight = 0
  /** Settles when every thread has loaded the handler; rejects with a {@link WorkerModuleError} when one cannot. */
  readonly ready: Promise<void>

  constructor(private readonly options: ThreadPoolOptions) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.startStart = resolve
      this.failStart = reject
    })
    // Observed here so that a pool closed before it started leaves no unhandled rejection; users await `ready`.
    this.ready.catch(() => undefined)
    for (let i = 0; i < options.threads; i++) this.threads.push(this.spawn())
  }

  private spawn(): Thread {
    const { options } = this
    const progress = new SharedArrayBuffer(8)
    const workerData: ThreadData = { moduleUrl: options.moduleUrl, exportName: options.exportName, epoch: this.epoch.buffer as SharedArrayBuffer, progress }
    const worker = new Worker(THREAD_ENTRY, {
      workerData,
      ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
    })
    counts.started++
    counts.running++
    const thread: Thread = { worker, progress: new Int32Array(progress), sent: [], load: 0, ready: false, exited: false }
    Atomics.store(thread.progress, PROGRESS_FRAME, -1)
    worker.on('message', (message: ThreadMessage) => this.onMessage(thread, message))
    worker.on('error', (err: unknown) => {
      thread.error = err
    })
    worker.on('exit', (code: number) => {
      counts.running--
      thread.exited = true
      this.onExit(thread, code)
    })
    return thread
  }

  private onMessage(thread: Thread, message: ThreadMessage): void {
    if ('seq' in message) {
      const batch = thread.sent.shift()
      if (batch === undefined || batch.seq !== message.seq) return // cannot happen: a thread answers in order
      thread.load -= batch.frames.length
      this.inFlight -= batch.frames.length
      if (this.closing === undefined) batch.done(this.outcomes(thread, message, batch.frames))
    } else if ('exiting' in message) {
      thread.exiting = message.exiting
      this.retire(thread)
    } else if ('ready' in message) {
      thread.ready = true
      if (!this.started && this.threads.every((t) => t.ready)) {
        this.started = true
        this.startStart?.()
      }
    } else {
      const f = message.loadFailure
      const cause = toWorkerError(f)
      const err = new WorkerModuleError(`cannot load the handler "${this.options.exportName}" of ${this.options.moduleUrl}: ${f.message}`, { cause })
      if (!this.started) this.failStart?.(err)
      else if (this.closing === undefined) this.options.onThreadError(err, true)
    }
  }

  /** Why `thread` ended, for messages. */
  private why(thread: Thread, code: number | undefined): string {
    return thread.error === undefined ? `exited with code: ${code ?? thread.exiting ?? 'unknown'}` : `failed: ${messageOf(thread.error)}`
  }

  /** The outcomes on this thread of a batch's reply; a reply that cannot be read fails each of its frames. */
  private outcomes(thread: Thread, reply: BatchReply, inputs: readonly Frame[]): Outcome[] {
    let decoded: DecodedOutcome[]
    try {
      decoded = decodeOutputs(reply, inputs)
    } catch (err) {
      return inputs.map((input) => ({ error: new WorkerError(`a worker thread answered with data that cannot be read: ${messageOf(err)} (while handling ${input.name})`, { cause: err, frame: input }) }))
    }
    const others = Array.isArray(reply.others) ? reply.others : []
    const out: Outcome[] = new Array<Outcome>(inputs.length)
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as Frame
      const d = decoded[i] as DecodedOutcome
      if ('frames' in d) out[i] = d
      else if ('invalid' in d) out[i] = { error: new WorkerError(`the handler returned a bad frame: ${d.invalid.message} (while handling ${input.name})`, { cause: d.invalid, frame: input }) }
      else {
        const other = others[d.other]
        out[i] =
          other === undefined
            ? { error: new WorkerError(`a worker thread answered with data that cannot be read: no outcome ${d.other} (while handling ${input.name})`, { frame: input }) }
            : this.other(thread, other, input)
      }
    }
    return out
  }

  /** The outcome on this thread of a frame that has no outputs in a thread. */
  private other(thread: Thread, outcome: OtherOutcome, input: Frame): Outcome {
    if ('skipped' in outcome) return DROPPED
    if ('failure' in outcome) return { error: toWorkerError(outcome.failure, input) }
    if ('died' in outcome) {
      thread.diedIn = input
      return { error: new WorkerError(`a worker thread ${this.why(thread, outcome.died)} (while handling ${input.name})`, { cause: thread.error, frame: input }) }
    }
    try {
      return { retry: unpackFrame(outcome.unstarted, input) }
    } catch (err) {
      return { error: new WorkerError(`a frame handed back by an exiting worker thread is not valid: ${messageOf(err)} (while handling ${input.name})`, { cause: err, frame: input }) }
    }
  }

  /**
   * Takes an exiting thread out of the pool and starts its replacement (unless the pool is closing or the thread never
   * got ready: a replacement would die the same way). Idempotent.
   */
  private retire(thread: Thread): void {
    const index = this.threads.indexOf(thread)
    if (index < 0 || this.closing !== undefined || !this.started) return
    if (!thread.ready) {
      this.options.onThreadError(new WorkerModuleError(`a worker thread could not be replaced: it ${this.why(thread, undefined)}`, { cause: thread.error }), true)
      return
    }
    this.threads[index] = this.spawn()
  }

  private onExit(thread: Thread, code: number): void {
    if (this.closing !== undefined) return
    if (!this.started) {
      this.failStart?.(new WorkerModuleError(`the worker threads failed to start: a thread ${this.why(thread, code)}`, { cause: thread.error }))
      return
    }
    this.retire(thread)
    const why = this.why(thread, code)
    // Batches it did not answer (a thread cut off without running its exit handlers: out of memory, …) are lost.
    const lost = thread.sent.splice(0)
    for (const batch of lost) this.inFlight -= batch.frames.length
    thread.load = 0
    if (lost.length === 0) {
      // It held no frame (an error thrown later from a timer of the handler, …), or the frame it died in is reported.
      if (thread.diedIn === undefined) this.options.onThreadError(new WorkerError(`a worker thread ${why}`, { cause: thread.error }), false)
      return
    }
    // The frame it was working on, if it died in one; else the first it held.
    const first = lost[0] as Sent
    const working = Atomics.load(thread.progress, PROGRESS_BATCH) === first.seq ? Atomics.load(thread.progress, PROGRESS_FRAME) : -1
    const culprit = first.frames[Math.max(0, working)] as Frame
    const others = lost.flatMap((b) => b.frames).filter((f) => f !== culprit)
    const also = others.length === 0 ? '' : `; ${others.length} more frame${others.length === 1 ? '' : 's'} it held ${others.length === 1 ? 'was' : 'were'} lost with it (${others.map((f) => f.name).join(', ')})`
    const err = new WorkerError(`a worker thread ${why} (while ${working >= 0 ? 'handling' : 'holding'} ${culprit.name})${also}`, { cause: thread.error, frame: culprit })
    for (const batch of lost) batch.done(batch.frames.map((f) => (f === culprit ? { error: err } : DROPPED)))
  }

  /** Threads the pool runs. */
  get size(): number {
    return this.threads.length
  }

  /**
   * Sends `frames` to the least busy thread as one batch (with `move`, their whole byte buffers are moved: detached on
   * this thread); `done` gets one outcome per frame, in order, once the thread answered (never after {@link close}).
   * `epoch` is the caller's interruption epoch: the thread skips the frames it has not started once
   * {@link setEpoch} moved on.
   */
  send(frames: readonly Frame[], move: boolean, epoch: number, done: (outcomes: readonly Outcome[]) => void): void {
    if (this.closing !== undefined) throw new WorkerError('the worker threads are shut down')
    let thread = this.threads[0] as Thread
    for (const t of this.threads) if (t.load < thread.load) thread = t
    const transfer = new Set<ArrayBuffer>()
    const request: BatchRequest = { seq: this.seq + 1, epoch, ...encodeFrames(frames, move, transfer) }
    try {
      thread.worker.postMessage(request, [...transfer])
    } catch (err) {
      // Something cannot be cloned (a function in app data, …): nothing was sent or moved. Alone, the frame fails;
      // in a batch, each frame goes on its own so that only the culprits fail.
      if (frames.length === 1) {
        const error = new WorkerError(`the frame cannot be sent to a worker thread: ${messageOf(err)} (while handling ${(frames[0] as Frame).name})`, { cause: err, frame: frames[0] as Frame })
        queueMicrotask(() => done([{ error }]))
      } else this.sendEach(frames, move, epoch, done)
      return
    }
    this.seq++
    thread.sent.push({ seq: request.seq, frames, done })
    thread.load += frames.length
    this.inFlight += frames.length
  }

  /** Sends each of `frames` as a batch of its own; `done` gets all their outcomes once every one is answered. */
  private sendEach(frames: readonly Frame[], move: boolean, epoch: number, done: (outcomes: readonly Outcome[]) => void): void {
    const outcomes: Outcome[] = new Array<Outcome>(frames.length).fill(DROPPED)
    let waiting = frames.length
    frames.forEach((frame, i) => {
      this.send([frame], move, epoch, ([outcome]) => {
        outcomes[i] = outcome ?? DROPPED
        if (--waiting === 0) done(outcomes)
      })
    })
  }

  /** Tells the threads the caller's interruption epoch: frames of batches sent in an older one that have not started are skipped. */
  setEpoch(epoch: number): void {
    Atomics.store(this.epoch, 0, epoch)
  }

  /** Terminates every thread (running work is cut off; unanswered batches are forgotten). Idempotent; settles when all exited. */
  close(): Promise<void> {
    this.closing ??= Promise.all(this.threads.map((t) => (t.exited ? undefined : t.worker.terminate()))).then(() => undefined)
    return this.closing
  }
}
