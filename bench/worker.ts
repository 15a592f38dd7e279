/**
 * WORKER: a CPU-bound stage (~200 µs of filtering per 640-byte audio frame) run on the main thread (a `map`) and as an
 * `inWorker` stage on 1 and 2 threads. Reported: steady-state throughput (from the first frame out after a warm-up
 * fifth to the last, so the threads' start and their code's first compilation are not counted), the main thread's
 * event-loop delay p99 while the frames flow (`monitorEventLoopDelay`, 1 ms resolution): what every other session of
 * the process would feel, and where the CPU goes per frame (main thread, the stage's threads, V8's helper threads).
 *
 * Targets: 2 threads ≥ 1.7× the throughput of 1 thread; event-loop delay p99 < 5 ms with the work in threads.
 * Environment: `BENCH_WORKER_FRAMES` (default 10000; the first fifth warms up and is not measured), `BENCH_REPS`
 * (default 3). Run alone: `npx tsx bench/worker.ts`.
 */
import { availableParallelism, loadavg } from 'node:os'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { Frames, map, run, type Frame, type Processor } from '../lib/index.js'
import { inWorker } from '../lib/worker/index.js'
import { cpuWork } from './cpu-stage.js'
import { formatTable, now, type BenchRow } from './harness.js'
import { allThreadsCpuMs, cpuSplitUs, mainThreadTimes, perFrameUs } from './thread-cpu.js'
import { transportRows } from './worker-transport.js'

const TARGET_US = 200
const AUDIO_BYTES = 640
/** The benchmark runs from the TypeScript sources: the threads import them through tsx. */
const execArgv = ['--import', new URL('../scripts/register-tsx.mjs', import.meta.url).href]
const STAGE = new URL('./cpu-stage.ts', import.meta.url)

function envCount(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

/** Passes of `cpuWork` over one frame that take about {@link TARGET_US} on this thread. */
function calibrate(): number {
  const audio = new Uint8Array(AUDIO_BYTES).map((_, i) => i & 0xff)
  for (let i = 0; i < 200; i++) cpuWork(audio, 10) // warm up the JIT
  let passes = 10
  for (;;) {
    // The fastest of several rounds: a busy machine only ever makes a round slower.
    let perFrameUs = Number.POSITIVE_INFINITY
    for (let round = 0; round < 7; round++) {
      const t0 = now()
      for (let i = 0; i < 50; i++) cpuWork(audio, passes)
      perFrameUs = Math.min(perFrameUs, ((now() - t0) * 1000) / 50)
    }
    if (perFrameUs > 20) return Math.max(1, Math.round((passes * TARGET_US) / perFrameUs))
    passes *= 4
  }
}

function* audioFrames(n: number): Generator<Frame> {
  for (let i = 0; i < n; i++) {
    const audio = new Uint8Array(AUDIO_BYTES)
    audio[0] = i & 0xff
    yield Frames.audioRaw({ audio })
  }
}

interface Sample {
  /** Steady-state ms for all frames: (last out − first out after the warm-up) scaled to n frames. */
  readonly ms: number
  readonly lagP99Ms: number
  readonly lagMaxMs: number
  /** Main-thread busy time per frame (event-loop utilization × wall time ÷ frames), µs. */
  readonly mainUs: number
  /** Main-thread CPU time per frame (from /proc; NaN elsewhere), µs. */
  readonly cpuUs: number
  /** Time per frame the main thread was ready to run but waited for a core (from /proc; NaN elsewhere), µs. */
  readonly waitUs: number
  /** CPU per frame of the threads started by the run (the stage's worker threads), µs; NaN without /proc. */
  readonly threadsUs: number
  /** CPU per frame of the process's other threads (V8's garbage collection and compiler threads, libuv), µs. */
  readonly helpersUs: number
}

/**
 * One run of `stage` over `n` frames. With `watchLag`, a 1 ms timer samples the event-loop delay — it wakes the main
 * thread a thousand times a second, which is CPU of its own: the time and CPU figures come from runs without it.
 */
async function once(stage: Processor, n: number, watchLag: boolean): Promise<Sample> {
  const skip = Math.floor(n / 5)
  const measured = n - 1 - skip
  const lag = monitorEventLoopDelay({ resolution: 1 })
  let first = 0
  let last = 0
  let count = 0
  let elu = performance.eventLoopUtilization()
  let cpu0: ReturnType<typeof mainThreadTimes>
  const existing = new Set(allThreadsCpuMs().keys())
  let threads0 = new Map<number, number>()
  let threads1 = new Map<number, number>()
  for await (const f of run(stage, audioFrames(n))) {
    if (f.type !== 'audioRaw') continue
    count++
    // The first fifth warms up: fresh threads run their code unoptimized until V8 has compiled it (on its helper
    // threads), which a long-running session pays once.
    if (count === skip + 1) {
      // The histogram's timer starts at the next event-loop turn: give it one, or a loop blocked from here on (the
      // main-thread variant) would go unrecorded.
      if (watchLag) {
        lag.enable()
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      first = now()
      elu = performance.eventLoopUtilization()
      cpu0 = mainThreadTimes()
      threads0 = allThreadsCpuMs()
    }
    last = now()
    // Read before the stage shuts its threads down.
    if (count === n) threads1 = allThreadsCpuMs()
  }
  // A loop blocked by the whole run records its delay when its timer finally fires: let it.
  await new Promise((resolve) => setTimeout(resolve, 5))
  lag.disable()
  const busy = performance.eventLoopUtilization(elu)
  const cpu1 = mainThreadTimes()
  const main = perFrameUs(cpu0, cpu1, measured)
  const split = threads1.size === 0 ? { newUs: Number.NaN, helpersUs: Number.NaN } : cpuSplitUs(existing, threads0, threads1, measured)
  if (count !== n) throw new Error(`expected ${n} audio frames out, got ${count}`)
  return { ms: ((last - first) * n) / measured, lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6, mainUs: (busy.active * 1000) / measured, ...main, threadsUs: split.newUs, helpersUs: split.helpersUs }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** The WORKER rows. */
export async function bench(): Promise<BenchRow[]> {
  const n = envCount('BENCH_WORKER_FRAMES', 10000)
  const reps = envCount('BENCH_REPS', 3)
  const passes = calibrate()
  process.env.APIPELINE_BENCH_CPU_PASSES = String(passes)
  const variants: Record<string, () => Processor> = {
    'main thread: map(cpuWork)': () => map((f) => (f.kind === 'data' && f.type === 'audioRaw' ? (cpuWork(f.audio, passes), f) : f)),
    'inWorker, 1 thread': () => inWorker(STAGE, 'cpuStage', { threads: 1, execArgv }),
    'inWorker, 2 threads': () => inWorker(STAGE, 'cpuStage', { threads: 2, execArgv }),
    'main thread: map, no work (the frame source and run() alone)': () => map((f) => f),
    'inWorker, 1 thread, no work (crossing cost)': () => inWorker(STAGE, 'passThrough', { threads: 1, execArgv }),
    'inWorker, 1 thread, no work, maxBatch 1 (a message per frame)': () => inWorker(STAGE, 'passThrough', { threads: 1, execArgv, maxBatch: 1 }),
  }
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  const lagSamples: Record<string, Sample[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (const make of Object.values(variants)) await once(make(), Math.min(n, 200), false) // warm-up
  for (let r = 0; r < reps; r++) {
    for (const [name, make] of Object.entries(variants)) samples[name]?.push(await once(make(), n, false))
  }
  // The event-loop delay, in runs of their own (half the frames).
  for (const [name, make] of Object.entries(variants)) lagSamples[name]?.push(await once(make(), Math.ceil(n / 2), true))
  const ms = (name: string): number => median((samples[name] ?? []).map((s) => s.ms))
  const one = ms('inWorker, 1 thread')
  // On a machine busier than its cores, threads wait for a core: the ratios then say little (see bench/README.md).
  const load = `${(loadavg()[0] ?? 0).toFixed(1)} on ${availableParallelism()} cores`
  const rows: BenchRow[] = []
  for (const name of Object.keys(variants)) {
    const s = samples[name] ?? []
    const lagP99 = median((lagSamples[name] ?? []).map((x) => x.lagP99Ms))
    const lagMax = median((lagSamples[name] ?? []).map((x) => x.lagMaxMs))
    const mainUs = median(s.map((x) => x.mainUs))
    const cpuUs = median(s.map((x) => x.cpuUs))
    const waitUs = median(s.map((x) => x.waitUs))
    const threadsUs = median(s.map((x) => x.threadsUs))
    const helpersUs = median(s.map((x) => x.helpersUs))
    // What 2 threads could reach on 2 otherwise idle cores, from the CPU each frame takes: 1 thread is bound by its own
    // core (1 / w), 2 threads by the 2 cores they share with the main thread and V8's helpers (2 / (w + m + h)).
    const ceiling =
      name.startsWith('inWorker') && !Number.isNaN(threadsUs) ? `; ceiling on 2 idle cores from the CPU per frame: ${((2 * threadsUs) / (threadsUs + cpuUs + helpersUs)).toFixed(2)}x 1 thread` : ''
    const speed = one / ms(name)
    const target =
      name === 'inWorker, 2 threads'
        ? `; ${speed.toFixed(2)}x the throughput of 1 thread (target ≥ 1.7x)`
        : name === 'main thread: map(cpuWork)'
          ? `; ${speed.toFixed(2)}x the throughput of 1 thread`
          : ''
    rows.push({
      bench: 'WORKER',
      variant: name,
      frames: n,
      ms: ms(name),
      ...(name === 'inWorker, 1 thread' ? {} : { baseline: 'inWorker, 1 thread' }),
      note: `event-loop delay p99 ${lagP99.toFixed(1)} ms, max ${lagMax.toFixed(1)} ms (target < 5 ms off the main thread); main thread CPU ${Number.isNaN(cpuUs) ? 'n/a' : `${cpuUs.toFixed(1)} µs/frame, waiting for a core ${waitUs.toFixed(1)} µs/frame`} (event-loop busy ${mainUs.toFixed(0)} µs/frame); worker threads' CPU ${threadsUs.toFixed(1)} µs/frame, V8/libuv helper threads' ${helpersUs.toFixed(1)} µs/frame${ceiling}${target}; ${passes} passes ≈ ${TARGET_US} µs/frame; load average ${load}`,
    })
  }
  rows.push(...(await transportRows(Math.max(n, 5000), reps, execArgv)))
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
