/**
 * B3: fan-out of every input frame to 4 branches of 2 async-generator stages each, merged — ours against it-merge over
 * the same branches, side by side in one process (round robin, median of the repetitions).
 *
 * - `it-merge` (baseline): a bounded tee (one 16-frame channel per branch, the same policy as ours) feeding the four
 *   branches, merged by it-merge 3. No lifecycle join, no de-duplication, no error guard, no upstream.
 * - `apipeline parallel`: `parallel(...)` with each branch a guarded `pipeline` of the same two stages; outputs are
 *   de-duplicated by id and `start`/`end` joined.
 * - `apipeline syncParallel`: the same branches in lock-step (one input frame at a time, released in branch order).
 *
 * Every variant iterates the element directly (no task), over `BENCH_PARALLEL_FRAMES` text frames (default 50,000);
 * each branch yields one new frame per input, so every variant emits 4 frames per input.
 * Run alone: `npx tsx bench/parallel.ts`.
 */
import merge from 'it-merge'
import { pathToFileURL } from 'node:url'
import { detachedContext } from '../lib/core/context.js'
import { parallel } from '../lib/combinators/parallel.js'
import { syncParallel } from '../lib/combinators/sync-parallel.js'
import { Frames, pipeline, type Frame, type Processor } from '../lib/index.js'
import { Channel } from '../lib/internal/channel.js'
import { formatTable, timeSideBySide, type BenchRow } from './harness.js'

const BRANCHES = 4
const STAGES_PER_BRANCH = 2
const BUFFER = 16

function envInt(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

/** Stage 1 of every branch: passes frames through (an async generator hop). */
const pass: Processor = async function* pass(source) {
  for await (const frame of source) yield frame
}

/** Stage 2 of a branch: turns each text frame into a new one (a distinct closure per branch). */
function relabel(): Processor {
  return async function* relabelStage(source) {
    for await (const frame of source) yield frame.kind === 'data' && frame.type === 'text' ? Frames.text(frame.text) : frame
  }
}

function inputFrames(n: number): Frame[] {
  return Array.from({ length: n }, (_, i) => Frames.text(String(i % 1000)))
}

/** A bounded tee: one channel of `BUFFER` frames per branch, filled by one feeder that waits while any is full. */
function tee(source: Iterable<Frame>, ways: number): Channel<Frame>[] {
  const channels = Array.from({ length: ways }, () => new Channel<Frame>(BUFFER))
  void (async () => {
    for (const frame of source) {
      const waits: Promise<void>[] = []
      for (const ch of channels) {
        const w = ch.push(frame)
        if (w !== undefined) waits.push(w)
      }
      if (waits.length > 0) await Promise.all(waits)
    }
    for (const ch of channels) ch.close()
  })()
  return channels
}

async function drain(iterable: AsyncIterable<Frame>): Promise<number> {
  let count = 0
  for await (const _ of iterable) count++
  return count
}

function check(variant: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${variant}: expected ${want} output frames, got ${got}`)
}

/** Runs B3 and returns its rows. */
export async function bench(n = envInt('BENCH_PARALLEL_FRAMES', 50_000), reps = envInt('BENCH_REPS', 3)): Promise<BenchRow[]> {
  const input = inputFrames(n)
  const want = n * BRANCHES
  const rawBranches = (): ((src: AsyncIterable<Frame>) => AsyncIterable<Frame>)[] =>
    Array.from({ length: BRANCHES }, () => (src: AsyncIterable<Frame>) => {
      const ctx = detachedContext('raw')
      return relabel()(pass(src, ctx), ctx)
    })
  const ourBranches = (): Processor[] => Array.from({ length: BRANCHES }, () => pipeline(pass, relabel()))

  const times = await timeSideBySide(
    {
      'it-merge': async () => {
        const channels = tee(input, BRANCHES)
        const branches = rawBranches()
        check('it-merge', await drain(merge(...channels.map((ch, b) => (branches[b] as (s: AsyncIterable<Frame>) => AsyncIterable<Frame>)(ch)))), want)
      },
      'apipeline parallel': async () => {
        const element = parallel({ capacity: BUFFER }, ...ourBranches())
        check('parallel', await drain(element(input as unknown as AsyncIterable<Frame>, detachedContext('bench'))), want)
      },
      'apipeline syncParallel': async () => {
        const element = syncParallel({ capacity: BUFFER }, ...ourBranches())
        check('syncParallel', await drain(element(input as unknown as AsyncIterable<Frame>, detachedContext('bench'))), want)
      },
    },
    reps,
  )
  const base = times['it-merge'] as number
  const note = (variant: string): string => {
    const ms = times[variant] as number
    return `${((ms * 1000) / want).toFixed(2)} µs/output, ${(ms / base).toFixed(2)}x it-merge`
  }
  return Object.keys(times).map((variant) => {
    const row: BenchRow = {
      bench: 'B3',
      variant,
      frames: n,
      ms: times[variant] as number,
      stages: BRANCHES * STAGES_PER_BRANCH,
      note: note(variant),
    }
    return variant === 'it-merge' ? row : { ...row, baseline: 'it-merge' }
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await bench()
  console.log(formatTable(rows))
}
