/**
 * B5: interruption latency. Text frames flow into a task at 10,000 frames/s through
 * `map → buffered(model) → map → reader`; every 5 ms the task is interrupted, 1000 times. The model awaits every frame
 * (a macrotask turn, abortable through `ctx.signal`), so it is usually in flight when an interruption comes.
 *
 * Measured per interruption, from just before `task.interrupt()`:
 * - to the in-flight model's `ctx.signal` abort listener running;
 * - to `startInterruption` reaching the reader of `task.frames()` (the sink).
 * Reported as p50 / p99 in the `note`; `ms` is the wall time of the whole run, `frames` the text frames fed.
 * Variants: with the buffered stage, and the same chain without it.
 *
 * Signal-ignoring variant: `map → model → map → reader` where the model streams 20 words per question, one per
 * macrotask turn, and never looks at its signal. Each round queues a question, waits for its first word at the sink,
 * then interrupts: measured from just before `task.interrupt()` to `startInterruption` at the reader, and the stale
 * words (of a question read before the interruption) that reach the reader after it — interruption epochs make that 0.
 *
 * Concurrent variant: the same answers from a model that reads and produces concurrently (a pump reading its source,
 * an answer loop streaming words through a queue, each word stamped with the epoch of its question, `stampEpoch`), and
 * the interruption comes from the reader, in the same run of microtasks as the hand-over of the next word — the
 * situation of a `remote()` stage whose output arrives independently of its reads.
 *
 * Environment: `BENCH_INTERRUPTS` (default 1000). Run alone: `npx tsx bench/interruption.ts`.
 */
import { pathToFileURL } from 'node:url'
import { pushable } from 'it-pushable'
import { Frames, PipelineTask, currentEpoch, map, pipeline, stampEpoch, type Frame, type ProcessorFn } from '../lib/index.js'
import { buffered } from '../lib/processors/buffered.js'
import { formatTable, now, type BenchRow } from './harness.js'

const RATE = 10_000 // frames per second
const EVERY_MS = 5 // one interruption every EVERY_MS

function interruptCount(fallback = 1000): number {
  const n = Number(process.env.BENCH_INTERRUPTS ?? fallback)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`

interface Result {
  readonly wallMs: number
  readonly fed: number
  readonly delivered: number
  readonly abort: number[]
  readonly sink: number[]
  readonly interrupts: number
}

async function once(withBuffer: boolean, interrupts: number): Promise<Result> {
  let lastInterruptAt = 0
  const abort: number[] = []
  const sleepTurn = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      const onAbort = (): void => {
        abort.push(now() - lastInterruptAt)
        clearImmediate(timer)
        reject(signal.reason)
      }
      const timer = setImmediate(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      })
      signal.addEventListener('abort', onAbort, { once: true })
    })
  const model: ProcessorFn = async function* model(source, ctx) {
    for await (const f of source) {
      if (f.kind === 'data') await sleepTurn(ctx.signal)
      yield f
    }
  }
  const pass = (f: Frame): Frame => f
  const chain = withBuffer ? pipeline(map(pass), buffered(model, { capacity: 64 }), map(pass)) : pipeline(map(pass), model, map(pass))
  const task = new PipelineTask(chain, { allowInterruptions: true, inputCapacity: 256 })

  const pendingStarts: number[] = []
  const sink: number[] = []
  let delivered = 0
  const output = task.frames()
  const reading = (async () => {
    for await (const f of output) {
      if (f.kind === 'data') delivered++
      else if (f.kind === 'system' && f.type === 'startInterruption') {
        const t = pendingStarts.shift()
        if (t !== undefined) sink.push(now() - t)
      }
    }
  })()
  const running = task.run()

  const t0 = now()
  let fed = 0
  let done = 0
  let nextInterrupt = t0 + EVERY_MS
  const frame = Frames.text('x')
  while (done < interrupts) {
    const elapsed = now() - t0
    const due = Math.floor((elapsed * RATE) / 1000)
    while (fed < due) {
      await task.queueFrame(fed % 1000 === 0 ? Frames.text('x') : frame)
      fed++
    }
    if (now() >= nextInterrupt) {
      lastInterruptAt = now()
      pendingStarts.push(lastInterruptAt)
      task.interrupt()
      done++
      nextInterrupt += EVERY_MS
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  task.stopWhenDone()
  await running
  await reading
  return { wallMs: now() - t0, fed, delivered, abort, sink, interrupts: done }
}

interface DeafResult {
  readonly wallMs: number
  readonly sink: number[]
  readonly stale: number
  readonly rounds: number
  readonly staleDropped: number
}

/** The signal-ignoring variants (see the module documentation). */
async function onceDeaf(rounds: number, concurrent = false): Promise<DeafResult> {
  const WORDS = 20
  let epoch = 0
  const epochOf = new Map<number, number>()
  const concurrentModel: ProcessorFn = (source, ctx) => {
    const out = pushable<Frame>({ objectMode: true })
    void (async () => {
      let chain = Promise.resolve()
      try {
        for await (const f of source) {
          if (f.kind !== 'data' || f.type !== 'text') {
            if (f.kind === 'system') out.push(f)
            else chain = chain.then(() => void out.push(f))
            continue
          }
          const asked = epoch
          const stamp = currentEpoch(ctx)
          chain = chain.then(async () => {
            for (let i = 0; i < WORDS; i++) {
              await new Promise((resolve) => setImmediate(resolve)) // never looks at ctx.signal
              const word = Frames.text(`w${i}`)
              epochOf.set(word.id, asked)
              out.push(stampEpoch(ctx, word, stamp))
            }
          })
        }
        await chain
      } finally {
        out.end()
      }
    })()
    return out
  }
  const sequentialModel: ProcessorFn = async function* model(source) {
    for await (const f of source) {
      if (f.kind !== 'data' || f.type !== 'text') {
        yield f
        continue
      }
      const asked = epoch
      for (let i = 0; i < WORDS; i++) {
        await new Promise((resolve) => setImmediate(resolve)) // never looks at ctx.signal
        const word = Frames.text(`w${i}`)
        epochOf.set(word.id, asked)
        yield word
      }
    }
  }
  const model = concurrent ? concurrentModel : sequentialModel
  const pass = (f: Frame): Frame => f
  const task = new PipelineTask(pipeline(map(pass), model, map(pass)), { allowInterruptions: true })
  const sink: number[] = []
  let stale = 0
  let words = 0
  let startedAt = 0
  let sinkEpoch = 0
  /** Concurrent variant: the reader interrupts as the first fresh word of a round arrives. */
  let armed = false
  const interrupt = (): void => {
    startedAt = now()
    epoch++
    task.interrupt()
  }
  const output = task.frames()
  const reading = (async () => {
    for await (const f of output) {
      if (f.kind === 'system' && f.type === 'startInterruption') {
        sink.push(now() - startedAt)
        sinkEpoch++
      } else if (f.kind === 'data') {
        words++
        const asked = epochOf.get(f.id)
        epochOf.delete(f.id)
        if (asked !== undefined && asked < sinkEpoch) stale++
        else if (armed) {
          armed = false
          interrupt()
        }
      }
    }
  })()
  const running = task.run()
  const t0 = now()
  for (let r = 0; r < rounds; r++) {
    const before = words
    armed = concurrent
    await task.queueFrame(Frames.text('question'))
    if (!concurrent) {
      while (words === before) await new Promise((resolve) => setImmediate(resolve))
      interrupt()
    }
    while (sink.length <= r) await new Promise((resolve) => setImmediate(resolve))
  }
  // Let the model finish its last (stale) answer, so every stale word had its chance to reach the sink.
  for (let i = 0; i < 2 * WORDS; i++) await new Promise((resolve) => setImmediate(resolve))
  task.stopWhenDone()
  await running
  await reading
  epochOf.clear()
  return { wallMs: now() - t0, sink, stale, rounds, staleDropped: task.staleFrames }
}

/** Runs B5 and returns its rows. */
export async function bench(): Promise<BenchRow[]> {
  const n = interruptCount()
  const rows: BenchRow[] = []
  await once(true, Math.min(50, n)) // warm-up
  for (const withBuffer of [true, false]) {
    const r = await once(withBuffer, n)
    const abort = [...r.abort].sort((a, b) => a - b)
    const sink = [...r.sink].sort((a, b) => a - b)
    const label = withBuffer ? 'buffered(model, 64)' : 'no buffer'
    const flow = `${Math.round((r.fed * 1000) / r.wallMs)} frames/s fed, ${r.delivered} delivered (the others were in flight in the model or queued when an interruption came)`
    rows.push({
      bench: 'B5',
      variant: `interrupt→signal abort, ${label}`,
      frames: r.fed,
      ms: r.wallMs,
      note: `p50 ${us(percentile(abort, 50))}, p99 ${us(percentile(abort, 99))} over ${abort.length}/${r.interrupts} interruptions with the model in flight; ${flow}`,
    })
    rows.push({
      bench: 'B5',
      variant: `interrupt→startInterruption at sink, ${label}`,
      frames: r.fed,
      ms: r.wallMs,
      note: `p50 ${us(percentile(sink, 50))}, p99 ${us(percentile(sink, 99))}, max ${us(sink.at(-1) ?? Number.NaN)} over ${sink.length}/${r.interrupts} interruptions`,
    })
  }
  const deafRounds = Math.max(20, Math.min(300, Math.floor(n / 3)))
  for (const concurrent of [false, true]) {
    await onceDeaf(20, concurrent) // warm-up
    const d = await onceDeaf(deafRounds, concurrent)
    const sink = [...d.sink].sort((a, b) => a - b)
    const model = concurrent ? 'concurrent model (reads while it streams, stamps its words) interrupted by the reader' : 'model ignoring its signal'
    rows.push({
      bench: 'B5',
      variant: `interrupt→startInterruption at sink, ${model} (20 words/answer)`,
      frames: d.rounds,
      ms: d.wallMs,
      note: `p50 ${us(percentile(sink, 50))}, p99 ${us(percentile(sink, 99))}, max ${us(sink.at(-1) ?? Number.NaN)} over ${sink.length} interruptions; target p99 ≤ 1 ms`,
    })
    rows.push({
      bench: 'B5',
      variant: `stale words delivered after startInterruption, ${model}`,
      frames: d.rounds,
      ms: d.wallMs,
      note: `${d.stale} stale words reached the sink (target 0); ${d.staleDropped} dropped at the stage boundary as stale`,
    })
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
