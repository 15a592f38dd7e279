/**
 * The messages between a worker-thread stage and its threads (`worker_threads` message ports): the stage sends
 * batches of frames, each thread answers every batch with one outcome per frame.
 * @module
 */
import type { EncodedFrames, EncodedOutputs } from './batch-codec.js'
import type { FrameRecord } from './frame-transfer.js'

/** What every thread is told when it starts (`workerData`). */
export interface ThreadData {
  /** `file:` (or `data:`) URL of the module holding the handler. */
  readonly moduleUrl: string
  /** The export of that module to call for each frame. */
  readonly exportName: string
  /**
   * One `Int32` shared by the stage and all its threads: the stage's interruption epoch. A thread skips the frames of a
   * batch sent in an older epoch that it has not started yet.
   */
  readonly epoch: SharedArrayBuffer
  /**
   * Two `Int32`s of this thread: the sequence number of the batch it is working on and the index of the frame in it
   * (-1 between frames), so the stage can tell which frame a thread was handling when it died.
   */
  readonly progress: SharedArrayBuffer
}

/** Index of the batch sequence number in {@link ThreadData.progress}. */
export const PROGRESS_BATCH = 0
/** Index of the frame index in {@link ThreadData.progress}. */
export const PROGRESS_FRAME = 1

/** A batch of frames for a thread, handled in order; `epoch` is the stage's interruption epoch when it was sent. */
export interface BatchRequest extends EncodedFrames {
  readonly seq: number
  readonly epoch: number
}

/** An error thrown in a thread, as plain data. */
export interface ThreadFailure {
  readonly name: string
  readonly message: string
  readonly stack?: string
  readonly fatal: boolean
}

/**
 * What became of one frame of a batch, other than outputs: the error the handler threw (or a result that is not a
 * frame), `skipped` when an interruption came before the thread started it; and from a thread that is exiting: `died`
 * (with the exit code) for the frame it was handling, `unstarted` (the frame handed back as received) for the frames it
 * had not started.
 */
export type OtherOutcome = { readonly failure: ThreadFailure } | { readonly skipped: true } | { readonly died: number } | { readonly unstarted: FrameRecord }

/** A thread's answer to a batch: the outputs of each frame (encoded), or where it has none, its entry in `others`. */
export interface BatchReply extends EncodedOutputs {
  readonly seq: number
  readonly others: readonly OtherOutcome[]
}

/**
 * What a thread posts: it is ready (the handler loaded), it cannot load the handler, the outcomes of a batch, or that
 * it is exiting (`process.exit()` in the handler, an uncaught error): then the outcomes of every batch it holds follow.
 */
export type ThreadMessage =
  | { readonly ready: true }
  | { readonly loadFailure: ThreadFailure }
  | BatchReply
  | { readonly exiting: number }
