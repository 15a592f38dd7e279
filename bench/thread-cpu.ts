/**
 * The CPU time of the calling (main) thread, from `/proc` (Linux): unlike event-loop utilization, which counts wall
 * time, it does not grow while the thread waits for a core on a busy machine — that wait is reported apart.
 */
import { readdirSync, readFileSync } from 'node:fs'

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

/** CPU time (ms, nanosecond resolution) of every thread of the process by thread id; empty where `/proc` is not there. */
export function allThreadsCpuMs(): Map<number, number> {
  const out = new Map<number, number>()
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6)
    } catch {
      // The thread exited meanwhile.
    }
  }
  return out
}

/**
 * Splits the CPU used between two {@link allThreadsCpuMs} readings per frame (µs): the main thread, the threads that
 * were not there at `existing` (a stage's worker threads), and the other threads that were (V8's platform threads:
 * garbage collection and compilation, libuv's).
 */
export function cpuSplitUs(existing: ReadonlySet<number>, from: Map<number, number>, to: Map<number, number>, frames: number): { mainUs: number; newUs: number; helpersUs: number } {
  let main = 0
  let fresh = 0
  let helpers = 0
  for (const [tid, ms] of to) {
    const used = ms - (from.get(tid) ?? 0)
    if (tid === process.pid) main += used
    else if (existing.has(tid)) helpers += used
    else fresh += used
  }
  return { mainUs: (main * 1000) / frames, newUs: (fresh * 1000) / frames, helpersUs: (helpers * 1000) / frames }
}
