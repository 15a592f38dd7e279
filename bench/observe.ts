/**
 * Observability overhead, side by side in one process (round robin, median of the repetitions):
 *
 * - B1 observed: `run(pipeline(map × 10))` (ten fused per-frame stages) with no observer, with one observer (a
 *   function counting frame events: every frame leaving each of the ten stages, plus input and output), with the
 *   latency breakdown, and with the OpenTelemetry integration (an SDK tracer provider with an in-memory exporter; a
 *   turn starts every 1,000 frames).
 * - B2 observed: the same for `run(pipeline(10 async generators))`.
 * - Slow observer: an observer that takes 1 ms per event (it awaits a timer) on B1: its queue fills, the surplus is
 *   dropped and counted, and the pipeline runs at the speed of the unobserved one.
 *
 * Targets (issue: observability): one observer ≤ 1.10x the time of none; OpenTelemetry ≤ 1.25x; the slow observer ~1.0x.
 * Environment: `BENCH_FRAMES` (default 200,000 here), `BENCH_REPS` (default 3). Run alone: `npx tsx bench/observe.ts`.
 */
import { pathToFileURL } from 'node:url'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { Frames, latencyBreakdown, map, pipeline, run, type Frame, type ObserverObject, type Observer, type Processor } from '../lib/index.js'
import { openTelemetry } from '../lib/otel/index.js'
import { formatTable, timeSideBySide, type BenchRow } from './harness.js'
import { benchFrames, benchReps } from './serial.js'

const STAGES = 10
const TURN_EVERY = 1000

const transforms: ((frame: Frame) => Frame)[] = Array.from({ length: STAGES }, (_, k) => {
  const stage = k
  return (frame: Frame) => (stage < 0 ? Frames.text('never') : frame)
})
const syncStages = (): Processor => pipeline(...transforms.map((fn, k) => map(fn, `map${k}`)))
const generatorStages = (): Processor =>
  pipeline(
    ...transforms.map(
      (fn): Processor =>
        async function* general(source) {
          for await (const frame of source) yield fn(frame)
        },
    ),
  )

/** Text frames with a `userTurn` app frame every TURN_EVERY frames (what starts a turn for the latency observers). */
function input(n: number): Frame[] {
  return Array.from({ length: n }, (_, i) => (i % TURN_EVERY === 0 ? Frames.app('userTurn', { i }) : Frames.text('x')))
}
const isTurnStart = (f: Frame): boolean => f.kind === 'app' && f.type === 'userTurn'

async function runOnce(processor: Processor, frames: readonly Frame[], observe: readonly Observer[]): Promise<void> {
  const handle = run(processor, frames, observe.length === 0 ? {} : { observe })
  let n = 0
  for await (const _ of handle) n++
  if (n !== frames.length + 2) throw new Error(`expected ${frames.length + 2} frames out, got ${n}`)
}

interface Variant {
  readonly name: string
  readonly observers: () => Observer[]
  readonly note?: () => string
}

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('bench')

function variants(processor: () => Processor): Variant[] {
  let events = 0
  let spans = 0
  return [
    { name: 'no observer', observers: () => [] },
    {
      name: 'one observer (counts frame events)',
      observers: () => {
        events = 0
        return [(e) => void (e.type === 'frame' && events++)]
      },
      note: () => `${events} events in the last run`,
    },
    { name: 'latencyBreakdown()', observers: () => [latencyBreakdown({ isTurnStart, processor: processor() })] },
    {
      name: 'OpenTelemetry (openTelemetry())',
      observers: () => {
        spans = exporter.getFinishedSpans().length
        exporter.reset()
        return [openTelemetry({ tracer, isTurnStart, processor: processor() })]
      },
      note: () => `${spans || exporter.getFinishedSpans().length} spans per run`,
    },
  ]
}

async function observedRows(bench: string, processor: () => Processor, n: number, reps: number): Promise<BenchRow[]> {
  const frames = input(n)
  const list = variants(processor)
  const times = await timeSideBySide(Object.fromEntries(list.map((v) => [v.name, () => runOnce(processor(), frames, v.observers())])), reps)
  const base = times['no observer'] as number
  return list.map((v) => {
    const ms = times[v.name] as number
    const target = v.name.startsWith('one observer') ? 'target ≤ 1.10x' : v.name.startsWith('OpenTelemetry') ? 'target ≤ 1.25x' : ''
    const note = [v.name === 'no observer' ? 'baseline' : `${(ms / base).toFixed(2)}x the time of no observer`, target, v.note?.()].filter((s) => s !== undefined && s !== '').join('; ')
    const row: BenchRow = { bench, variant: v.name, frames: n, ms, stages: STAGES, note }
    return v.name === 'no observer' ? row : { ...row, baseline: 'no observer' }
  })
}

async function slowObserverRows(n: number, reps: number): Promise<BenchRow[]> {
  const frames = input(n)
  let dropped = 0
  let delivered = 0
  const slow = (): ObserverObject => ({ name: 'slow', capacity: 1024, onEvent: () => new Promise<void>((resolve) => setTimeout(resolve, 1)) })
  const times = await timeSideBySide(
    {
      'no observer': () => runOnce(syncStages(), frames, []),
      'slow observer (1 ms per event, queue 1024)': async () => {
        const task = run(syncStages(), frames, { observe: slow() })
        let out = 0
        for await (const _ of task) out++
        if (out !== frames.length + 2) throw new Error('lost frames')
        await task.result
        // The run is over; stats of the observer come from a second, observed run through PipelineTask below.
      },
    },
    reps,
  )
  // One more run to read the observer's stats (run() does not expose the task).
  const { PipelineTask } = await import('../lib/index.js')
  const task = new PipelineTask(syncStages(), { observe: slow() })
  const reading = (async () => {
    for await (const _ of task.frames()) void _
  })()
  const done = task.run()
  await task.queueFrames(frames)
  task.stopWhenDone()
  await done
  await reading
  const stats = task.observerStats()[0]
  dropped = stats?.dropped ?? 0
  delivered = stats?.delivered ?? 0
  const base = times['no observer'] as number
  const slowMs = times['slow observer (1 ms per event, queue 1024)'] as number
  return [
    { bench: 'slow observer', variant: 'no observer', frames: n, ms: base, stages: STAGES, note: 'baseline (B1 pipeline)' },
    {
      bench: 'slow observer',
      variant: 'slow observer (1 ms per event, queue 1024)',
      frames: n,
      ms: slowMs,
      stages: STAGES,
      baseline: 'no observer',
      note: `${(slowMs / base).toFixed(2)}x the time of no observer (target ~1.0x); by the end of a run ${delivered} events delivered, ${dropped} dropped and counted`,
    },
  ]
}

/** Every row of this benchmark. */
export async function bench(n = benchFrames(200_000), reps = benchReps()): Promise<BenchRow[]> {
  return [
    ...(await observedRows('B1 observed', syncStages, n, reps)),
    ...(await observedRows('B2 observed', generatorStages, n, reps)),
    ...(await slowObserverRows(n, reps)),
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
