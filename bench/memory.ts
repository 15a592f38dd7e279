/**
 * B4: memory. 1,000,000 audio frames of 640 bytes (20 ms of 16 kHz mono PCM each, a fresh buffer per frame) flow
 * from a lazy source through four stages into a slow sink (it yields to the event loop after every frame, so the
 * source could run far ahead if any queue were unbounded). Peak RSS must stay under 100 MB.
 *
 * Each variant runs in a fresh child process (`node <compiled>/bench/memory.js --child <variant>`), so one
 * benchmark's heap does not pollute another's; the child reports the OS peak RSS (`process.resourceUsage().maxRSS`)
 * and its RSS before the run. The child runs plain JavaScript: `lib/` and this file are transpiled (TypeScript's
 * `transpileModule`, no type checking) into `node_modules/.cache/apipeline-bench/`, because a TypeScript loader
 * (tsx) adds about 35 MB of its own to the RSS of the process it runs in.
 *
 * Environment: `BENCH_AUDIO_FRAMES` (default 1,000,000).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { filter, Frames, map, pipeline, run, tap, type Frame, type Processor } from '../lib/index.js'
import { formatTable, type BenchRow } from './harness.js'

const STAGES = 4
const FRAME_BYTES = 640
const LIMIT_MB = 100

/** What a child process reports. */
interface ChildReport {
  readonly variant: string
  readonly frames: number
  readonly ms: number
  readonly baseRssMb: number
  readonly peakRssMb: number
  readonly peakHeapMb: number
}

function audioFrames(): number {
  const n = Number(process.env.BENCH_AUDIO_FRAMES ?? 1_000_000)
  return Number.isInteger(n) && n > 0 ? n : 1_000_000
}

async function* audioSource(n: number): AsyncGenerator<Frame> {
  for (let i = 0; i < n; i++) {
    const audio = new Uint8Array(FRAME_BYTES)
    audio[0] = i & 0xff
    yield Frames.audioRaw({ audio })
  }
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The four stages, as the library's operators plus one general processor. */
function ourStages(counter: { bytes: number }): Processor {
  const passThrough: Processor = async function* passThrough(source) {
    for await (const frame of source) yield frame
  }
  return pipeline(
    map((f: Frame) => f, 'gain'),
    passThrough,
    filter((f: Frame) => f.kind !== 'data' || f.type !== 'audioRaw' || f.audio.length > 0, 'nonEmpty'),
    tap((f: Frame) => {
      if (f.kind === 'data' && f.type === 'audioRaw') counter.bytes += f.audio.length
    }, 'meter'),
  )
}

/** The same four stages hand-written as `async function*`. */
function handStages(source: AsyncIterable<Frame>, counter: { bytes: number }): AsyncIterable<Frame> {
  const gain = async function* (s: AsyncIterable<Frame>) {
    for await (const f of s) yield f
  }
  const passThrough = async function* (s: AsyncIterable<Frame>) {
    for await (const f of s) yield f
  }
  const nonEmpty = async function* (s: AsyncIterable<Frame>) {
    for await (const f of s) if (f.kind !== 'data' || f.type !== 'audioRaw' || f.audio.length > 0) yield f
  }
  const meter = async function* (s: AsyncIterable<Frame>) {
    for await (const f of s) {
      if (f.kind === 'data' && f.type === 'audioRaw') counter.bytes += f.audio.length
      yield f
    }
  }
  return meter(nonEmpty(passThrough(gain(source))))
}

const VARIANTS: Record<string, (n: number) => Promise<number>> = {
  'hand-written 4 × async function*, slow sink': async (n) => {
    const counter = { bytes: 0 }
    let out = 0
    for await (const _ of handStages(audioSource(n), counter)) {
      out++
      await yieldToLoop()
    }
    return out
  },
  'apipeline run(map, generator, filter, tap), slow sink': async (n) => {
    const counter = { bytes: 0 }
    let out = 0
    for await (const f of run(ourStages(counter), audioSource(n))) {
      if (f.type === 'audioRaw') out++
      await yieldToLoop()
    }
    if (counter.bytes !== n * FRAME_BYTES) throw new Error(`meter saw ${counter.bytes} bytes, expected ${n * FRAME_BYTES}`)
    return out
  },
}

/** Child side: runs one variant and prints a JSON report on stdout. */
async function child(variant: string): Promise<void> {
  const fn = VARIANTS[variant]
  if (fn === undefined) throw new TypeError(`unknown variant ${variant}`)
  const n = audioFrames()
  const mb = (bytes: number): number => bytes / (1024 * 1024)
  const baseRssMb = mb(process.memoryUsage.rss())
  let peakHeap = 0
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  }, 10)
  const t0 = performance.now()
  const out = await fn(n)
  const ms = performance.now() - t0
  clearInterval(sampler)
  if (out !== n) throw new Error(`${variant}: ${out} frames reached the sink, expected ${n}`)
  const report: ChildReport = {
    variant,
    frames: n,
    ms,
    baseRssMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapMb: mb(peakHeap),
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Transpiles `lib/` and the bench files to JavaScript under `node_modules/.cache`; returns the compiled entry. */
async function compileForChild(): Promise<string> {
  // Loaded here only: the child must not pay for the compiler.
  const ts = (await import('typescript')).default
  const outRoot = join(root, 'node_modules', '.cache', 'apipeline-bench')
  const files: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path)
    }
  }
  walk(join(root, 'lib'))
  files.push(join(root, 'bench', 'memory.ts'), join(root, 'bench', 'harness.ts'))
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    })
    const out = join(outRoot, relative(root, file)).replace(/\.ts$/, '.js')
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, outputText)
  }
  writeFileSync(join(outRoot, 'package.json'), '{ "type": "module" }\n')
  return join(outRoot, 'bench', 'memory.js')
}

function spawnChild(entry: string, variant: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [entry, '--child', variant], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    proc.stdout.setEncoding('utf8')
    proc.stdout.on('data', (chunk: string) => {
      stdout += chunk
    })
    proc.on('error', reject)
    proc.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? ''
      if (code !== 0) {
        reject(new Error(`memory bench child for "${variant}" exited with ${String(code)}: ${stdout}`))
        return
      }
      try {
        resolve(JSON.parse(line) as ChildReport)
      } catch {
        reject(new Error(`memory bench child for "${variant}" printed no report: ${stdout}`))
      }
    })
  })
}

/** B4: one child process per variant; rows with peak RSS in the note. */
export async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  const names = Object.keys(VARIANTS)
  const baseline = names[0] as string
  const entry = await compileForChild()
  for (const variant of names) {
    const r = await spawnChild(entry, variant)
    const verdict = variant === baseline ? '' : r.peakRssMb < LIMIT_MB ? `; under ${LIMIT_MB} MB: yes` : `; under ${LIMIT_MB} MB: NO`
    const row: BenchRow = {
      bench: 'B4',
      variant,
      frames: r.frames,
      ms: r.ms,
      stages: STAGES,
      note: `peak RSS ${r.peakRssMb.toFixed(1)} MB (start ${r.baseRssMb.toFixed(1)} MB), peak heap ${r.peakHeapMb.toFixed(1)} MB${verdict}`,
    }
    rows.push(variant === baseline ? row : { ...row, baseline })
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--child')
  if (at >= 0) await child(process.argv[at + 1] ?? '')
  else console.log(formatTable(await bench()))
}
