/**
 * SPREAD: the same run in several fresh processes. A benchmark inside one process can hide a cost that a process picks
 * up at random: V8 decides once per process whether the objects of an allocation site go straight to the old
 * generation ("pretenuring", see lib/internal/yielded.ts), and a hot path whose iterator results were object literals
 * took 1–3x its usual time in some processes and not in others. Each child runs `PipelineTask(pipeline(map × 10))`
 * over 200,000 frames (3 warm-up passes, then the median CPU time of 5), and the rows give the fastest, median and
 * slowest process; the last row runs the same children with V8's pretenuring turned off, the reference for what a
 * process costs when no such decision is taken.
 *
 * Environment: `BENCH_SPREAD_PROCESSES` (default 8). Run alone: `npx tsx bench/spread.ts`.
 * @module
 */
import { spawn } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Frames, map, pipeline, type Frame, type Processor } from '../lib/index.js'
import { formatTable, taskPass, type BenchRow } from './harness.js'

const STAGES = 10
const FRAMES = 200_000

const stages = (): Processor => pipeline(...Array.from({ length: STAGES }, (_, k) => map((f: Frame) => (k < 0 ? Frames.text('never') : f), `map${k}`)))

/** In a child: prints the median CPU ms of the measured passes. */
async function child(): Promise<void> {
  const frames = Array.from({ length: FRAMES }, (_, i) => (i % 1000 === 0 ? Frames.app('userTurn', { i }) : Frames.text('x')))
  for (let i = 0; i < 3; i++) await taskPass(stages(), frames)
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage()
    await taskPass(stages(), frames)
    const c = process.cpuUsage(c0)
    times.push((c.user + c.system) / 1000)
  }
  times.sort((a, b) => a - b)
  console.log(JSON.stringify({ ms: times[2] }))
}

function runChild(v8Flags: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...v8Flags, '--import', 'tsx', fileURLToPath(import.meta.url), '--child'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    proc.stdout.setEncoding('utf8')
    proc.stdout.on('data', (chunk: string) => (out += chunk))
    proc.on('error', reject)
    proc.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exited with ${String(code)}`)
        resolve((JSON.parse(out.trim().split('\n').pop() ?? '') as { ms: number }).ms)
      } catch (err) {
        reject(new Error(`spread bench child: ${err instanceof Error ? err.message : String(err)}: ${out}`))
      }
    })
  })
}

/** Every row of this benchmark. */
export async function bench(processes = Number(process.env['BENCH_SPREAD_PROCESSES'] ?? 8)): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  const variants: [string, readonly string[]][] = [
    ['PipelineTask(pipeline(map × 10)), one process each', []],
    ['the same, V8 pretenuring off (reference)', ['--no-allocation-site-pretenuring']],
  ]
  const results = new Map<string, number[]>(variants.map(([name]) => [name, []]))
  // Alternated, so that a slow period of the machine does not fall on one variant only.
  for (let i = 0; i < processes; i++) for (const [name, flags] of variants) results.get(name)?.push(await runChild(flags))
  const reference = variants[1]?.[0] as string
  for (const [name] of variants) {
    const times = [...(results.get(name) ?? [])].sort((a, b) => a - b)
    const min = times[0] as number
    const median = times[Math.floor(times.length / 2)] as number
    const max = times[times.length - 1] as number
    const row: BenchRow = {
      bench: 'SPREAD',
      variant: name,
      frames: FRAMES,
      ms: median,
      stages: STAGES,
      note: `CPU ms per pass over ${times.length} processes: fastest ${min.toFixed(1)}, median ${median.toFixed(1)}, slowest ${max.toFixed(1)} (slowest / fastest ${(max / min).toFixed(2)}x)`,
    }
    rows.push(name === reference ? row : { ...row, baseline: reference })
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--child')) await child()
  else console.log(formatTable(await bench()))
}
