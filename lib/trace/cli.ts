/**
 * The command line: `apipeline-ts trace view FILE [--out PAGE.html]` writes the trace viewer page of a trace file.
 * Progress is shown on a terminal (with `cli-progress` when it is installed), never when output is redirected.
 * @module
 */
import { writeFile } from 'node:fs/promises'
import { basename, extname, join, dirname } from 'node:path'
import { readTrace, TraceFormatError } from './read-trace.js'
import { renderTraceHtml } from './trace-html.js'

const USAGE = `usage: apipeline-ts trace view FILE [--out PAGE.html]

  Writes one self-contained HTML page for a trace recorded with traceRecorder():
  the pipeline's graph on top, a timeline below (a lane per processor, a mark per frame,
  interruptions as vertical lines, hover a mark to see its frame).
  Default output: FILE with the extension .html.`

/**
 * Where the command writes its messages.
 * @example
 * ```ts
 * import { traceCli, type CliIo } from 'apipeline-ts/trace'
 * const io: CliIo = { out: console.log, err: console.error, tty: false }
 * await traceCli(['trace', 'view', 's.jsonl'], io)
 * ```
 */
export interface CliIo {
  readonly out: (line: string) => void
  readonly err: (line: string) => void
  /** True when progress may be drawn (stderr is a terminal). */
  readonly tty: boolean
}

const processIo = (): CliIo => ({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  tty: process.stderr.isTTY === true && process.env.CI === undefined,
})

interface Progress {
  update(done: number, total: number): void
  stop(): void
}

/** A progress bar on a terminal (cli-progress when installed), nothing otherwise. */
async function progressBar(io: CliIo, label: string): Promise<Progress> {
  const none: Progress = { update: () => {}, stop: () => {} }
  if (!io.tty) return none
  try {
    const mod = (await import('cli-progress')) as typeof import('cli-progress') & { default?: typeof import('cli-progress') }
    const lib = mod.default ?? mod
    const bar = new lib.SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} KiB`, hideCursor: true, stream: process.stderr }, lib.Presets.shades_classic)
    let started = false
    return {
      update: (done, total) => {
        if (!started) {
          started = true
          bar.start(Math.max(1, Math.ceil(total / 1024)), 0)
        }
        bar.update(Math.ceil(done / 1024))
      },
      stop: () => {
        if (started) bar.stop()
      },
    }
  } catch {
    return none
  }
}

/**
 * Runs the command with `args` (without `node` and the script); resolves with the exit code (0 done, 1 failed, 2 usage).
 * @example
 * ```ts
 * import { traceCli } from 'apipeline-ts/trace'
 * process.exitCode = await traceCli(['trace', 'view', 'session.jsonl', '--out', 'session.html'])
 * ```
 */
export async function main(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  if (args[0] !== 'trace' || args[1] !== 'view') {
    io.err(USAGE)
    return args.length === 0 || args[0] === '--help' || args[0] === '-h' ? 0 : 2
  }
  const rest = args.slice(2)
  let file: string | undefined
  let out: string | undefined
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string
    if (a === '--out' || a === '-o') {
      out = rest[++i]
      if (out === undefined) {
        io.err('--out needs a file name')
        return 2
      }
    } else if (a.startsWith('-')) {
      io.err(`unknown option ${a}\n${USAGE}`)
      return 2
    } else if (file === undefined) file = a
    else {
      io.err(`one trace file at a time\n${USAGE}`)
      return 2
    }
  }
  if (file === undefined) {
    io.err(USAGE)
    return 2
  }
  const target = out ?? join(dirname(file), `${basename(file, extname(file))}.html`)
  const bar = await progressBar(io, 'reading')
  try {
    const trace = await readTrace(file, { onProgress: (done, total) => bar.update(done, total) })
    bar.stop()
    await writeFile(target, renderTraceHtml(trace))
    io.out(`${target}: ${trace.frames.length} frames, ${trace.events.filter((e) => e.kind === 'interrupted').length} interruptions`)
    return 0
  } catch (err) {
    bar.stop()
    const message = err instanceof TraceFormatError ? err.message : err instanceof Error ? `${file}: ${err.message}` : String(err)
    io.err(message)
    return 1
  }
}
