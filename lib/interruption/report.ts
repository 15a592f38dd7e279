/**
 * The interruption report: one frame per interruption, sent upstream by the task (its stages' upstream handlers see
 * it, then `onUpstream`), describing the output of the interrupted turn — what reached the user and what did not.
 * @module
 */
import { app } from '../frames/constructors.js'
import type { AppFrame, Frame } from '../frames/types.js'

/** One frame of an interrupted turn, as the report lists it. */
export interface ReportedFrame {
  readonly id: number
  readonly name: string
  readonly type: string
  /** The text of a `text` frame. */
  readonly text?: string
}

/** What an interrupted turn produced, split into what was delivered and what was dropped. */
export interface InterruptionReport {
  /** The epoch of the interrupted turn (0 for the output before the first interruption, then 1, 2, …). */
  readonly epoch: number
  /** Frames delivered by a sink (written, acknowledged by the callback, reported played), in production order. */
  readonly delivered: readonly ReportedFrame[]
  /** Frames of the turn that never reached the user (dropped by a queue, stale at a stage, never played). */
  readonly dropped: readonly ReportedFrame[]
  /** The text of the delivered `text` frames, concatenated: what the user received. */
  readonly deliveredText: string
  /** The text of the dropped `text` frames, concatenated. */
  readonly droppedText: string
  /** How many frames were delivered (exact, also when the lists were truncated). */
  readonly deliveredCount: number
  /** How many frames were dropped (exact, also when the lists were truncated). */
  readonly droppedCount: number
  /** True when the turn had more frames than the lists keep (`delivered`/`dropped` hold the first ones). */
  readonly truncated: boolean
}

/** The frame carrying an {@link InterruptionReport}: an app frame of type `interruptionReport`. */
export type InterruptionReportFrame = AppFrame<'interruptionReport', InterruptionReport>

/**
 * Builds an interruption report frame (the task sends one per interruption; build your own for tests).
 * @example
 * ```ts
 * import { interruptionReport } from 'apipeline-ts'
 *
 * const f = interruptionReport({ epoch: 0, delivered: [], dropped: [], deliveredText: '', droppedText: '',
 *   deliveredCount: 0, droppedCount: 0, truncated: false })
 * f.type // 'interruptionReport'
 * ```
 */
export function interruptionReport(report: InterruptionReport): InterruptionReportFrame {
  return app('interruptionReport', Object.freeze({ ...report }))
}

/**
 * True for the task's interruption report frame.
 * @example
 * ```ts
 * import { isInterruptionReport, PipelineTask } from 'apipeline-ts'
 *
 * const history: { role: 'assistant'; text: string; interrupted: boolean }[] = []
 * const task = new PipelineTask(bot, {
 *   allowInterruptions: true,
 *   onUpstream: (f) => { if (isInterruptionReport(f)) history.push({ role: 'assistant', text: f.data.deliveredText, interrupted: true }) },
 * })
 * ```
 */
export function isInterruptionReport(frame: Frame): frame is InterruptionReportFrame {
  return frame.kind === 'app' && frame.type === 'interruptionReport'
}
