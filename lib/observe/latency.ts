/**
 * `latencyBreakdown()`: a built-in observer that measures, per turn, the time from the input to the first and last
 * output at the sink and the time each processor took, and sums a session (or many) up as percentiles.
 * @module
 */
import { metrics as metricsFrame } from '../frames/constructors.js'
import type { MetricsFrame } from '../frames/types.js'
import { describe } from './describe.js'
import type { EventBatch, ObserverObject } from './events.js'
import { SampleWindow, type Percentiles } from './percentiles.js'
import { TurnTracker, type TurnOptions, type TurnReport } from './turns.js'

/**
 * Options of {@link latencyBreakdown}.
 * @example
 * ```ts
 * import { latencyBreakdown, type LatencyOptions } from 'apipeline-ts'
 * const options: LatencyOptions = { processor: bot, window: 500, onTurn: (t) => console.log(t.ttfb) }
 * latencyBreakdown(options)
 * ```
 */
export interface LatencyOptions extends TurnOptions {
  /** Called with every finished turn and the same numbers as a `metrics` frame (seconds, like `measured()`). */
  readonly onTurn?: (turn: TurnReport, metrics: MetricsFrame) => void
  /** Turns kept for `turns()` and samples kept per percentile (the most recent). Default 1000. */
  readonly window?: number
  /** Observer name in stats. Default `latency`. */
  readonly name?: string
  /** Queue capacity of the observer. Default 16384. */
  readonly capacity?: number
}

/**
 * Percentiles of one processor's times over the turns that were not interrupted.
 * @example
 * ```ts
 * import type { StageSummary } from 'apipeline-ts'
 * const line = (s: StageSummary) => `${s.processor}: ttfb p50 ${s.ttfb?.p50.toFixed(0)} ms`
 * ```
 */
export interface StageSummary {
  readonly processor: string
  readonly ttfb: Percentiles | undefined
  readonly processing: Percentiles | undefined
  /** Percentiles of what the processor reported itself in `metrics` frames. */
  readonly reportedTtfb: Percentiles | undefined
  readonly reportedProcessing: Percentiles | undefined
}

/**
 * The breakdown of every observed session so far.
 * @example
 * ```ts
 * import type { LatencyReport } from 'apipeline-ts'
 * const healthy = (r: LatencyReport) => (r.ttfb?.p99 ?? 0) < 800
 * ```
 */
export interface LatencyReport {
  /** Finished turns. */
  readonly turns: number
  /** Of which interrupted (not counted in the percentiles). */
  readonly interrupted: number
  /** Input to first output at the sink. */
  readonly ttfb: Percentiles | undefined
  /** Input to last output at the sink. */
  readonly total: Percentiles | undefined
  /** Per processor, in the order they were first seen. */
  readonly stages: readonly StageSummary[]
}

/**
 * The latency breakdown observer: {@link latencyBreakdown}'s result.
 * @example
 * ```ts
 * const latency = latencyBreakdown()
 * const task = new PipelineTask(bot, { observe: latency })
 * await task.run()
 * await task.observersIdle()
 * console.log(latency.report().ttfb?.p50)
 * ```
 */
export interface LatencyObserver extends ObserverObject {
  /** The summary so far (plain data). */
  report(): LatencyReport
  /** The most recent finished turns. */
  turns(): TurnReport[]
  /** The summary as a `metrics` frame: the p50 of each processor's TTFB and processing time, in seconds. */
  metrics(): MetricsFrame
}

/**
 * A turn's numbers as a `metrics` frame (seconds): the sink's TTFB under the name `turn` (when counted), then each
 * processor's TTFB and processing time.
 * @example
 * ```ts
 * latencyBreakdown({ onTurn: (turn, metrics) => void task.queueFrame(metrics) })
 * // or: turnMetrics(turn)
 * ```
 */
export function turnMetrics(turn: TurnReport): MetricsFrame {
  const ttfb = turn.stages.map((s) => ({ processor: s.processor, value: s.ttfb / 1000 }))
  const processing = turn.stages.map((s) => ({ processor: s.processor, value: s.processing / 1000 }))
  if (turn.ttfb !== undefined) ttfb.unshift({ processor: 'turn', value: turn.ttfb / 1000 })
  if (turn.total !== undefined) processing.unshift({ processor: 'turn', value: turn.total / 1000 })
  return metricsFrame({ ttfb, processing })
}

interface StageWindows {
  readonly ttfb: SampleWindow
  readonly processing: SampleWindow
  readonly reportedTtfb: SampleWindow
  readonly reportedProcessing: SampleWindow
}

/**
 * A built-in observer that breaks latency down per turn and per processor.
 *
 * A **turn** runs from an input frame that starts one (by default any data or app frame the task accepts) to the
 * next such input, or to the end of the task. For each turn it measures the time from the input to the first and to
 * the last output frame at the sink, and, for every processor that produced output in the turn, its TTFB and
 * processing time: from when its input for the turn was there (its predecessor's first output; pass `processor` for
 * exact predecessors across branches) to its first and last output. Values a processor reports itself in `metrics`
 * frames (`measured()`) are kept alongside. A turn cut by an interruption (or by cancel/stop/failure) is marked
 * `interrupted` and is not counted in the percentiles. One observer can watch many tasks; processors are named by
 * their path below the task, so sessions add up.
 *
 * @example
 * ```ts
 * import { latencyBreakdown, run, Frames } from 'apipeline-ts'
 *
 * const latency = latencyBreakdown({ processor: bot, onTurn: (t) => console.log(t.index, t.ttfb, t.stages) })
 * const handle = run(bot, [Frames.text('hi')], { observe: latency })
 * for await (const _ of handle) {}
 * const report = latency.report() // { turns, interrupted, ttfb: { p50, p99, … }, stages: [...] }
 * ```
 */
export function latencyBreakdown(options: LatencyOptions = {}): LatencyObserver {
  if (options === null || typeof options !== 'object') throw new TypeError('latencyBreakdown(options) must be an object')
  for (const key of ['isTurnStart', 'isOutput', 'onTurn'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new TypeError(`latencyBreakdown(options): ${key} must be a function`)
  }
  const window = options.window ?? 1000
  if (!Number.isInteger(window) || window < 1) throw new TypeError(`latencyBreakdown(options): window must be an integer >= 1, got ${String(window)}`)
  const recent: TurnReport[] = []
  const ttfb = new SampleWindow(window)
  const total = new SampleWindow(window)
  const stages = new Map<string, StageWindows>()
  let turns = 0
  let interrupted = 0

  const onTurn = (turn: TurnReport): void => {
    turns++
    recent.push(turn)
    if (recent.length > window) recent.shift()
    if (turn.interrupted) interrupted++
    else {
      if (turn.ttfb !== undefined) ttfb.add(turn.ttfb)
      if (turn.total !== undefined) total.add(turn.total)
      for (const s of turn.stages) {
        let w = stages.get(s.processor)
        if (w === undefined) {
          w = { ttfb: new SampleWindow(window), processing: new SampleWindow(window), reportedTtfb: new SampleWindow(window), reportedProcessing: new SampleWindow(window) }
          stages.set(s.processor, w)
        }
        if (s.frames > 0) {
          w.ttfb.add(s.ttfb)
          w.processing.add(s.processing)
        }
        if (s.reported?.ttfb !== undefined) w.reportedTtfb.add(s.reported.ttfb)
        if (s.reported?.processing !== undefined) w.reportedProcessing.add(s.reported.processing)
      }
    }
    options.onTurn?.(turn, turnMetrics(turn))
  }
  const tracker = new TurnTracker(options, onTurn, options.processor === undefined ? undefined : describe(options.processor))

  const report = (): LatencyReport => ({
    turns,
    interrupted,
    ttfb: ttfb.summary(),
    total: total.summary(),
    stages: [...stages.entries()].map(([processor, w]) => ({
      processor,
      ttfb: w.ttfb.summary(),
      processing: w.processing.summary(),
      reportedTtfb: w.reportedTtfb.summary(),
      reportedProcessing: w.reportedProcessing.summary(),
    })),
  })

  return {
    name: options.name ?? 'latency',
    ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
    // Upstream frames do not count in turns: the task need not record them for this observer.
    directions: ['down'],
    onEvents: (batch: EventBatch) => tracker.pushBatch(batch),
    report,
    turns: () => [...recent],
    metrics: () => {
      const r = report()
      const by = (key: 'ttfb' | 'processing') =>
        r.stages.flatMap((s) => (s[key] === undefined ? [] : [{ processor: s.processor, value: (s[key] as Percentiles).p50 / 1000 }]))
      return metricsFrame({ ttfb: by('ttfb'), processing: by('processing') })
    },
  }
}
