/**
 * The messages between a worker-thread stage and its threads (one pool task per frame).
 * @module
 */
import type { FrameRecord } from './frame-transfer.js'

/** What every thread of a pool is told when it starts (piscina's `workerData`). */
export interface ThreadData {
  /** `file:` (or `data:`) URL of the module holding the handler. */
  readonly moduleUrl: string
  /** The export of that module to call for each frame. */
  readonly exportName: string
}

/** A task: check the handler loads, or handle one frame. */
export type ThreadRequest = { readonly probe: true } | { readonly frame: FrameRecord }

/** An error thrown in a thread, as plain data. */
export interface ThreadFailure {
  readonly name: string
  readonly message: string
  readonly stack?: string
  readonly fatal: boolean
  /** True when the handler could not be loaded (the module or the export is wrong). */
  readonly loading: boolean
}

/** The answer to a task. `same[i]` is true when `outputs[i]` is the input frame object returned as received. */
export type ThreadReply =
  | { readonly ok: true; readonly outputs: readonly FrameRecord[]; readonly same: readonly boolean[] }
  | { readonly ok: false; readonly failure: ThreadFailure }
