/**
 * Percentiles over a bounded window of samples.
 * @module
 */

/**
 * Summary of samples (ms).
 * @example
 * ```ts
 * import type { Percentiles } from 'apipeline-ts'
 * const fmt = (p: Percentiles) => `p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms (${p.count})`
 * ```
 */
export interface Percentiles {
  readonly count: number
  readonly min: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/** Nearest-rank percentile of sorted `values`. */
function rank(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

/**
 * The summary of `values`, or undefined when there are none (nearest-rank percentiles).
 * @example
 * ```ts
 * import { percentiles } from 'apipeline-ts'
 * percentiles([10, 20, 30, 40])?.p50 // 20
 * ```
 */
export function percentiles(values: readonly number[]): Percentiles | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const sum = sorted.reduce((a, b) => a + b, 0)
  return {
    count: sorted.length,
    min: sorted[0] as number,
    p50: rank(sorted, 50),
    p90: rank(sorted, 90),
    p99: rank(sorted, 99),
    max: sorted.at(-1) as number,
    mean: sum / sorted.length,
  }
}

/** The last `capacity` samples. */
export class SampleWindow {
  private readonly values: number[] = []
  private next = 0
  constructor(private readonly capacity: number) {}

  add(value: number): void {
    if (this.values.length < this.capacity) this.values.push(value)
    else {
      this.values[this.next] = value
      this.next = (this.next + 1) % this.capacity
    }
  }

  summary(): Percentiles | undefined {
    return percentiles(this.values)
  }
}
