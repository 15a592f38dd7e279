/**
 * `npm run bench`: runs every benchmark and prints one table plus the environment.
 *
 * B1/B2 (serial chains) and B4 (memory, in child processes) are always run; B3 (`bench/parallel.ts`), B5
 * (`bench/interruption.ts`) and B6 (`bench/wire.ts`) are run when their module exists (each exports
 * `bench(): Promise<BenchRow[]>`). Select benchmarks with arguments: `npm run bench -- B1 B4`.
 * Sizes: `BENCH_FRAMES`, `BENCH_REPS`, `BENCH_AUDIO_FRAMES` (see bench/README.md).
 */
import { existsSync } from 'node:fs'
import { cpus, platform, release, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { formatTable, type BenchRow } from './harness.js'
import { startProgress } from './progress.js'

interface Entry {
  readonly id: string
  readonly file: string
  readonly title: string
  /** Picks the rows of this benchmark from a module that may export several. */
  readonly load: (mod: Record<string, unknown>) => () => Promise<BenchRow[]>
}

const here = dirname(fileURLToPath(import.meta.url))
const exported =
  (name: string) =>
  (mod: Record<string, unknown>): (() => Promise<BenchRow[]>) => {
    const fn = mod[name]
    if (typeof fn !== 'function') throw new TypeError(`missing export ${name}()`)
    return fn as () => Promise<BenchRow[]>
  }

const ENTRIES: readonly Entry[] = [
  { id: 'B1', file: 'serial.ts', title: '10 sync per-frame stages (fusion)', load: exported('benchSyncStages') },
  { id: 'B2', file: 'serial.ts', title: '10 async-generator processors', load: exported('benchGeneratorStages') },
  { id: 'GUARD', file: 'guard.ts', title: 'B2 guard designs: prototypes, library, reactions per frame', load: exported('bench') },
  { id: 'B3', file: 'parallel.ts', title: 'parallel and sync-parallel vs it-merge', load: exported('bench') },
  { id: 'B4', file: 'memory.ts', title: 'memory with a slow sink', load: exported('bench') },
  { id: 'B5', file: 'interruption.ts', title: 'interruption', load: exported('bench') },
  { id: 'B6', file: 'wire.ts', title: 'wire formats', load: exported('bench') },
  { id: 'B7', file: 'teardown.ts', title: 'teardown: break and cancel latency', load: exported('bench') },
  { id: 'W', file: 'websocket.ts', title: 'WebSocket transport (W1 round trip, W2 audio throughput, W3 memory per session)', load: exported('bench') },
  { id: 'NATS', file: 'nats.ts', title: 'distribution on NATS (hop cost, scaling, spread, memory)', load: exported('bench') },
  { id: 'OBS', file: 'observe.ts', title: 'observers, latency breakdown and OpenTelemetry on B1/B2; a slow observer', load: exported('bench') },
  { id: 'B8', file: 'python.ts', title: '10 pass-through stages vs the Python original', load: exported('bench') },
  { id: 'WORKER', file: 'worker.ts', title: 'CPU-bound stage on worker threads', load: exported('bench') },
  { id: 'SPREAD', file: 'spread.ts', title: 'the same run in several fresh processes (V8 pretenuring)', load: exported('bench') },
]

function environment(): string {
  const cpu = cpus()
  const model = cpu[0]?.model.trim() ?? 'unknown cpu'
  return [
    `node ${process.version} (${process.arch}), ${platform()} ${release()}`,
    `cpu: ${model} × ${cpu.length}, memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `BENCH_FRAMES=${process.env.BENCH_FRAMES ?? 'default'} BENCH_REPS=${process.env.BENCH_REPS ?? 'default'} BENCH_AUDIO_FRAMES=${process.env.BENCH_AUDIO_FRAMES ?? 'default'} BENCH_CLOCK=${process.env.BENCH_CLOCK ?? 'wall'}`,
  ].join('\n')
}

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2).map((a) => a.toUpperCase()))
  const rows: BenchRow[] = []
  const notes: string[] = []
  console.log(environment())
  const selected = ENTRIES.filter((entry) => wanted.size === 0 || wanted.has(entry.id))
  const progress = startProgress(selected.length)
  for (const entry of selected) {
    progress.step(`${entry.id} ${entry.title}`)
    const path = join(here, entry.file)
    if (!existsSync(path)) {
      const note = `${entry.id} (${entry.title}) skipped: bench/${entry.file} does not exist`
      notes.push(note)
      console.log(note)
      continue
    }
    const t0 = performance.now()
    try {
      const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>
      const got = await entry.load(mod)()
      // A module may return rows of several benchmarks (B3 includes parallel and sync-parallel).
      rows.push(...got)
      console.log(`${entry.id} (${entry.title}): ${got.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    } catch (err) {
      const note = `${entry.id} (${entry.title}) failed: ${err instanceof Error ? err.message : String(err)}`
      notes.push(note)
      console.log(note)
      process.exitCode = 1
    }
  }
  progress.stop()
  console.log()
  console.log(environment())
  console.log()
  console.log(formatTable(rows))
  if (notes.length > 0) console.log(`\n${notes.join('\n')}`)
}

await main()
