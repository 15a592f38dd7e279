/**
 * B7: teardown. How long from the consumer's `break` (or `cancel()`) until every stage's `finally` has run, and how
 * many frames a stage produced after the break (teardown closes stages with `return()`: ideally none).
 *
 * - `break`: `run()` over 10 pass-through generator stages behind a producer that yields frames as fast as it is asked
 *   (an endless loop of `yield`); the consumer breaks after 100 frames.
 * - `cancel()`: a task with 10 busy stages (each behind a small queue), each awaiting a long timer that honours
 *   `ctx.signal`; `cancel()` while every stage is parked.
 *
 * Each is repeated `BENCH_TEARDOWN_REPS` times (default 200); the row's `ms` is the median latency, the note gives p99
 * and the frames produced after the break. Run alone: `npx tsx bench/teardown.ts`.
 */
import { pathToFileURL } from 'node:url'
import { buffered, Frames, PipelineTask, pipeline, run, type Processor, type ProcessorFn } from '../lib/index.js'
import { formatTable, type BenchRow } from './harness.js'

const STAGES = 10
const CANCEL_TIMEOUT_MS = 2_000

function reps(): number {
  const n = Number(process.env.BENCH_TEARDOWN_REPS ?? 200)
  return Number.isInteger(n) && n > 0 ? n : 200
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

const passStage = (finalized: { count: number }): Processor =>
  async function* pass(source) {
    try {
      for await (const f of source) yield f
    } finally {
      finalized.count++
    }
  }

/** One `break`: returns the latency in ms and the frames the producer made after the break. */
async function oneBreak(): Promise<{ ms: number; after: number; complete: boolean }> {
  const finalized = { count: 0 }
  let produced = 0
  const producer: Processor = async function* producer(source) {
    try {
      for await (const f of source) {
        yield f
        if (f.type === 'start') for (;;) {
          yield Frames.app('tick', produced)
          produced++
        }
      }
    } finally {
      finalized.count++
    }
  }
  const stages = Array.from({ length: STAGES }, () => passStage(finalized))
  const handle = run(pipeline(producer, ...stages), [], { cancelTimeoutMs: CANCEL_TIMEOUT_MS })
  let n = 0
  let atBreak = 0
  let t0 = 0
  for await (const f of handle) {
    if (f.type === 'tick' && ++n === 100) {
      atBreak = produced
      t0 = performance.now()
      break
    }
  }
  await handle.result
  const ms = performance.now() - t0
  return { ms, after: produced - atBreak, complete: finalized.count === STAGES + 1 }
}

/** One `cancel()` of a task whose 10 stages are all parked on a long timer that honours the signal. */
async function oneCancel(): Promise<{ ms: number; complete: boolean }> {
  const finalized = { count: 0 }
  let parked = 0
  let allParked!: () => void
  const ready = new Promise<void>((resolve) => {
    allParked = resolve
  })
  const busy: ProcessorFn = async function* busy(source, ctx) {
    try {
      for await (const f of source) {
        if (f.type === 'text') {
          // Each stage forwards the frame first, so that every stage ends up holding one and waiting.
          yield f
          if (++parked === STAGES) allParked()
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, 60_000)
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(timer)
              reject(ctx.signal.reason)
            })
          })
          continue
        }
        yield f
      }
    } finally {
      finalized.count++
    }
  }
  // A queue after each stage lets every stage hand its frame on and start waiting, so all ten are busy at once.
  const task = new PipelineTask(pipeline(...Array.from({ length: STAGES }, () => buffered(busy, { capacity: 4 }))), {
    cancelTimeoutMs: CANCEL_TIMEOUT_MS,
  })
  const output = task.frames()
  const reading = (async () => {
    for await (const _ of output);
  })()
  const done = task.run()
  await task.queueFrame(Frames.text('work'))
  await ready
  const t0 = performance.now()
  await task.cancel()
  const ms = performance.now() - t0
  const complete = finalized.count === STAGES
  await Promise.all([done, reading])
  return { ms, complete }
}

/** B7 rows. */
export async function bench(): Promise<BenchRow[]> {
  const n = reps()
  const breaks: number[] = []
  const after: number[] = []
  let breaksComplete = 0
  for (let i = 0; i < n; i++) {
    const r = await oneBreak()
    breaks.push(r.ms)
    after.push(r.after)
    if (r.complete) breaksComplete++
  }
  const cancels: number[] = []
  let cancelsComplete = 0
  for (let i = 0; i < n; i++) {
    const r = await oneCancel()
    cancels.push(r.ms)
    if (r.complete) cancelsComplete++
  }
  breaks.sort((a, b) => a - b)
  after.sort((a, b) => a - b)
  cancels.sort((a, b) => a - b)
  return [
    {
      bench: 'B7',
      variant: `break out of run() over ${STAGES} stages + endless producer → result`,
      frames: n,
      ms: quantile(breaks, 0.5),
      note: `median ${quantile(breaks, 0.5).toFixed(2)} ms, p99 ${quantile(breaks, 0.99).toFixed(2)} ms; frames produced after the break: median ${quantile(after, 0.5)}, max ${after.at(-1) ?? 0}; every finally had run when the result came in ${breaksComplete}/${n} runs (frames column: repetitions)`,
    },
    {
      bench: 'B7',
      variant: `cancel() of a task with ${STAGES} busy stages → result`,
      frames: n,
      ms: quantile(cancels, 0.5),
      note: `median ${quantile(cancels, 0.5).toFixed(2)} ms, p99 ${quantile(cancels, 0.99).toFixed(2)} ms; every finally had run when cancel() resolved in ${cancelsComplete}/${n} runs (frames column: repetitions)`,
    },
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
