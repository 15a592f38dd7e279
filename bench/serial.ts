/**
 * B1 and B2: serial chains of ten stages, ours against a hand-written chain of `async function*` stages, side by
 * side in one process (round robin, median of the repetitions).
 *
 * - B1: ten synchronous per-frame stages (`map`). Ours fuses them into one stage that takes every frame already
 *   queued in one hop; the baseline is ten `async function*` stages; the limit is a plain synchronous loop.
 * - B2: ten general async-generator processors (the same generator body in every variant). Ours wraps each in a
 *   guarded stage (errors become upstream error frames, restart, quiet restart on interruption, teardown).
 *
 * Environment: `BENCH_FRAMES` (default 1,000,000), `BENCH_REPS` (default 3).
 * Run alone: `npx tsx bench/serial.ts`.
 */
import { pathToFileURL } from 'node:url'
import { Frames, PipelineTask, map, pipeline, run, type Frame, type Processor } from '../lib/index.js'
import { unfused } from '../lib/core/fuse.js'
import { formatTable, timeSideBySide, type BenchRow } from './harness.js'

const STAGES = 10

/** Frames per benchmark, from `BENCH_FRAMES`. */
export function benchFrames(fallback = 1_000_000): number {
  const n = Number(process.env.BENCH_FRAMES ?? fallback)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

/** Repetitions per variant, from `BENCH_REPS`. */
export function benchReps(fallback = 3): number {
  const n = Number(process.env.BENCH_REPS ?? fallback)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

/** Ten distinct pass-through transforms (distinct closures, as ten different stages would be). */
const transforms: ((frame: Frame) => Frame)[] = Array.from({ length: STAGES }, (_, k) => {
  const stage = k
  return (frame: Frame) => (stage < 0 ? Frames.text('never') : frame)
})

function expectCount(variant: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${variant}: expected ${want} frames at the end, got ${got}`)
}

async function* fromArray(frames: readonly Frame[]): AsyncGenerator<Frame> {
  for (const frame of frames) yield frame
}

/** The hand-written chain: an async generator source and one `async function*` per transform. */
function handChain(frames: readonly Frame[], stages: readonly ((source: AsyncIterable<Frame>) => AsyncIterable<Frame>)[]): AsyncIterable<Frame> {
  let source: AsyncIterable<Frame> = fromArray(frames)
  for (const stage of stages) source = stage(source)
  return source
}

const handMapStage =
  (fn: (frame: Frame) => Frame) =>
  async function* (source: AsyncIterable<Frame>): AsyncGenerator<Frame> {
    for await (const frame of source) yield fn(frame)
  }

/** A general async-generator processor: the same body as the hand-written stage, but a processor of ours. */
const generatorProcessor = (fn: (frame: Frame) => Frame): Processor =>
  async function* general(source) {
    for await (const frame of source) yield fn(frame)
  }

async function count(frames: AsyncIterable<Frame>): Promise<number> {
  let n = 0
  for await (const _ of frames) n++
  return n
}

/** Runs `processor` as a task fed with `queueFrames` and read with `frames()`; returns the frames out. */
async function countTask(processor: Processor, frames: readonly Frame[]): Promise<number> {
  const task = new PipelineTask(processor)
  const out = task.frames()
  const done = task.run()
  const feeding = task.queueFrames(frames).then(() => task.stopWhenDone())
  const n = await count(out)
  await Promise.all([done, feeding])
  return n
}

function rows(
  bench: string,
  n: number,
  times: Record<string, number>,
  baseline: string,
  notes: Record<string, string> = {},
): BenchRow[] {
  const base = times[baseline] as number
  return Object.entries(times).map(([variant, ms]) => {
    const throughput = base / ms
    const note = [notes[variant], variant === baseline ? 'baseline' : `${throughput.toFixed(2)}x the throughput of the baseline`]
      .filter((s) => s !== undefined && s !== '')
      .join('; ')
    const row: BenchRow = { bench, variant, frames: n, ms, stages: STAGES, note }
    return variant === baseline ? row : { ...row, baseline }
  })
}

/** B1: ten synchronous per-frame transforms. */
export async function benchSyncStages(n = benchFrames(), reps = benchReps()): Promise<BenchRow[]> {
  const frames: Frame[] = Array.from({ length: n }, () => Frames.text('x'))
  const withLifecycle = n + 2 // run() and the task add `start` and `end`
  const maps = (): Processor => pipeline(...transforms.map((fn, k) => map(fn, `map${k}`)))
  const HAND = 'hand-written 10 × async function*'
  const times = await timeSideBySide(
    {
      'plain sync loop (limit)': () => {
        let out = 0
        for (const frame of frames) {
          let f: Frame = frame
          for (const fn of transforms) f = fn(f)
          if (f !== undefined) out++
        }
        expectCount('sync loop', out, n)
      },
      [HAND]: async () => expectCount(HAND, await count(handChain(frames, transforms.map(handMapStage))), n),
      'apipeline run(pipeline(map × 10))': async () =>
        expectCount('run', await count(run(maps(), frames)), withLifecycle),
      'apipeline PipelineTask(pipeline(map × 10))': async () =>
        expectCount('task', await countTask(maps(), frames), withLifecycle),
      'apipeline run, fusion off (unfused × 10)': async () =>
        expectCount(
          'unfused',
          await count(run(pipeline(...transforms.map((fn, k) => unfused(map(fn, `map${k}`)))), frames)),
          withLifecycle,
        ),
    },
    reps,
  )
  return rows('B1', n, times, HAND, {
    'apipeline run(pipeline(map × 10))': 'target ≥ 8x throughput',
    'apipeline run, fusion off (unfused × 10)': 'each map its own stage',
  })
}

/** B2: ten general async-generator processors. */
export async function benchGeneratorStages(n = benchFrames(), reps = benchReps()): Promise<BenchRow[]> {
  const frames: Frame[] = Array.from({ length: n }, () => Frames.text('x'))
  const gens = (): Processor => pipeline(...transforms.map(generatorProcessor))
  const HAND = 'hand-written 10 × async function*'
  const times = await timeSideBySide(
    {
      [HAND]: async () => expectCount(HAND, await count(handChain(frames, transforms.map(handMapStage))), n),
      'apipeline pipeline(10 generators) over the same source': async () =>
        expectCount('pipeline', await count(gens()(fromArray(frames), undefined as never)), n),
      'apipeline run(pipeline(10 generators))': async () => expectCount('run', await count(run(gens(), frames)), n + 2),
      'apipeline PipelineTask(pipeline(10 generators))': async () =>
        expectCount('task', await countTask(gens(), frames), n + 2),
    },
    reps,
  )
  return rows('B2', n, times, HAND, {
    'apipeline pipeline(10 generators) over the same source': 'target ≤ 1.25x time; guarded stages only',
    'apipeline run(pipeline(10 generators))': 'plus task: input queue, output queue (run() pulls: no driver)',
  })
}

/** B1 and B2. */
export async function bench(): Promise<BenchRow[]> {
  return [...(await benchSyncStages()), ...(await benchGeneratorStages())]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
