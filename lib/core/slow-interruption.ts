/**
 * The development warning for a stage that holds an interruption: after an interruption, a processor that neither
 * reads its source again nor waits for its consumer within a threshold is busy with work of before the interruption
 * (it ignores `ctx.signal`). Its stale output is dropped anyway, but it delays everything behind it: the warning
 * names it.
 * @module
 */

/** What {@link PipelineParams.onSlowInterruption} receives. */
export interface SlowInterruption {
  /** The path-qualified name of the processor that still holds the interruption. */
  readonly processor: string
  /** How long it had held it when the warning was given, in ms (the threshold). */
  readonly heldMs: number
}

/** Receives a {@link SlowInterruption}. */
export type SlowInterruptionHandler = (warning: SlowInterruption) => void

/** Settings of the warning a run keeps (none when it is off). */
export interface SlowInterruptionWatch {
  readonly thresholdMs: number
  readonly report: SlowInterruptionHandler
}

/**
 * The default report: `console.warn`, except when `NODE_ENV` is `production` (nothing is printed there).
 * @example
 * ```ts
 * import { PipelineTask, warnSlowInterruption } from 'apipeline-ts'
 *
 * const task = new PipelineTask(bot, { onSlowInterruption: (w) => { metricsCounter(w); warnSlowInterruption(w) } })
 * function metricsCounter(w: { processor: string }): void { console.log('slow interruption in', w.processor) }
 * ```
 */
export function warnSlowInterruption(warning: SlowInterruption): void {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  if (env?.NODE_ENV === 'production') return
  console.warn(
    `apipeline-ts: ${warning.processor} still works on input of before an interruption after ${warning.heldMs} ms ` +
      '(it ignores ctx.signal?): its stale output is dropped, but it delays everything behind it',
  )
}

/**
 * Starts the timer of one stage after an interruption; `holding()` tells, when it fires, whether the stage still holds
 * the interruption. Returns the function that stops the timer (the stage read its source again, or closed).
 */
export function watchSlowInterruption(watch: SlowInterruptionWatch, processor: string, holding: () => boolean): () => void {
  const timer = setTimeout(() => {
    if (holding()) watch.report({ processor, heldMs: watch.thresholdMs })
  }, watch.thresholdMs)
  ;(timer as { unref?: () => void }).unref?.()
  return () => clearTimeout(timer)
}
