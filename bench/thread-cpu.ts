/**
 * The CPU time of the calling (main) thread, from `/proc` (Linux): unlike event-loop utilization, which counts wall
 * time, it does not grow while the thread waits for a core on a busy machine — that wait is reported apart.
 */
import { readFileSync } from 'node:fs'

/** Time the main thread spent on a CPU and waiting for one (run queue), in ms. */
export interface ThreadTimes {
  readonly cpuMs: number
  readonly waitMs: number
}

/** The main thread's {@link ThreadTimes} so far (nanosecond resolution), or `undefined` where `/proc` is not there. */
export function mainThreadTimes(): ThreadTimes | undefined {
  try {
    const [cpu, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(' ').map(Number)
    if (cpu === undefined || wait === undefined || !Number.isFinite(cpu) || !Number.isFinite(wait)) return undefined
    return { cpuMs: cpu / 1e6, waitMs: wait / 1e6 }
  } catch {
    return undefined
  }
}

/** µs per frame of CPU (and of waiting for a core) between two readings; NaN when either is missing. */
export function perFrameUs(from: ThreadTimes | undefined, to: ThreadTimes | undefined, frames: number): { cpuUs: number; waitUs: number } {
  if (from === undefined || to === undefined) return { cpuUs: Number.NaN, waitUs: Number.NaN }
  return { cpuUs: ((to.cpuMs - from.cpuMs) * 1000) / frames, waitUs: ((to.waitMs - from.waitMs) * 1000) / frames }
}
