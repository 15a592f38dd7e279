/**
 * Shared helpers for the benchmarks: timing, memory sampling and the result table.
 *
 * Every benchmark compares variants side by side in one process run and reports ratios to a baseline, because
 * absolute numbers on a shared machine are noisy.
 */
import { PipelineTask, type Frame, type Observer, type Processor } from '../lib/index.js'

/** One line of the result table. */
export interface BenchRow {
  /** Benchmark id, e.g. `B1`. */
  readonly bench: string
  /** Variant name, e.g. `apipeline (fused)`. */
  readonly variant: string
  /** Frames processed (input frames unless said otherwise). */
  readonly frames: number
  /** Wall time in ms (median of the repetitions). */
  readonly ms: number
  /** Stages in the chain, for ns per frame per stage. */
  readonly stages?: number
  /** Name of the variant this row is compared against (ratio = this time / baseline time). */
  readonly baseline?: string
  /** Free text: peak RSS, percentiles, MB/s … */
  readonly note?: string
}

/** Milliseconds since an arbitrary origin, high resolution. */
export const now = (): number => performance.now()

/** Milliseconds of CPU time this process has used (user + system, all its threads). */
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/**
 * The clock of the throughput timings: wall time, or with `BENCH_CLOCK=cpu` the process's CPU time, which a machine
 * shared with other busy processes disturbs much less (waiting for a core is not counted). Latencies stay wall time.
 */
export const passClock: () => number = process.env.BENCH_CLOCK === 'cpu' ? cpuMs : now

/** Runs `fn` `reps` times (after one warm-up run) and returns the median time in ms (see {@link passClock}). */
export async function timeMedian(fn: () => Promise<void> | void, reps = 3): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = passClock()
    await fn()
    times.push(passClock() - t0)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

/** Runs `fns` interleaved (round robin) `reps` times after a warm-up of each; returns the median ms of each (see {@link passClock}). */
export async function timeSideBySide(fns: Record<string, () => Promise<void> | void>, reps = 3): Promise<Record<string, number>> {
  const names = Object.keys(fns)
  for (const n of names) await (fns[n] as () => Promise<void> | void)()
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]))
  for (let r = 0; r < reps; r++) {
    for (const n of names) {
      const t0 = passClock()
      await (fns[n] as () => Promise<void> | void)()
      ;(times[n] as number[]).push(passClock() - t0)
    }
  }
  const out: Record<string, number> = {}
  for (const n of names) {
    const t = (times[n] as number[]).sort((a, b) => a - b)
    out[n] = t[Math.floor(t.length / 2)] as number
  }
  return out
}

/** Formats rows as a Markdown table with frames/s, ns per frame (per stage) and ratio to the baseline. */
export function formatTable(rows: readonly BenchRow[]): string {
  const byKey = new Map(rows.map((r) => [`${r.bench}/${r.variant}`, r]))
  const lines = [
    '| bench | variant | frames | ms | frames/s | ns/frame | ns/frame/stage | ratio (time vs baseline) | note |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ]
  for (const r of rows) {
    const nsPerFrame = (r.ms * 1e6) / r.frames
    const perStage = r.stages !== undefined && r.stages > 0 ? (nsPerFrame / r.stages).toFixed(1) : ''
    const base = r.baseline === undefined ? undefined : byKey.get(`${r.bench}/${r.baseline}`)
    const ratio = base === undefined ? '' : `${(r.ms / base.ms).toFixed(2)}x vs ${r.baseline}`
    lines.push(
      `| ${r.bench} | ${r.variant} | ${r.frames} | ${r.ms.toFixed(1)} | ${Math.round((r.frames * 1000) / r.ms)} | ${nsPerFrame.toFixed(0)} | ${perStage} | ${ratio} | ${r.note ?? ''} |`,
    )
  }
  return lines.join('\n')
}

/**
 * One pass of a `PipelineTask` over `frames` (queued with `queueFrames`, read with `frames()` to the end), until its
 * observers have received everything; checks that every frame came out (plus `start` and `end`).
 */
export async function taskPass(processor: Processor, frames: readonly Frame[], observe: readonly Observer[] = []): Promise<PipelineTask> {
  const task = new PipelineTask(processor, observe.length === 0 ? {} : { observe })
  let n = 0
  const reading = (async () => {
    for await (const _ of task.frames()) n++
  })()
  const done = task.run()
  await task.queueFrames(frames)
  task.stopWhenDone()
  await done
  await reading
  await task.observersIdle()
  if (n !== frames.length + 2) throw new Error(`expected ${frames.length + 2} frames out, got ${n}`)
  return task
}

