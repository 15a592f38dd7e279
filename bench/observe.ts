/**
 * Observability overhead, side by side in one process (round robin, median of the repetitions). Each run is timed
 * until its observers have received everything (`observersIdle()`), so the delivery of events is counted.
 *
 * - B1 observed: `pipeline(map × 10)` (ten fused per-frame stages) run by a `PipelineTask` read with `frames()`, with
 *   no observer; with one observer counting frame events (every frame leaving each of the ten stages, plus input and
 *   output), given one event at a time (`onEvent`) or in batches (`onEvents`); with one observer selecting only the
 *   task's input and output (`at`); with the latency breakdown; and with the OpenTelemetry integration (an SDK tracer
 *   provider with a batching span processor and an in-memory exporter, flushed at the end of each pass; a turn starts
 *   every 1,000 frames): without a context manager (by default no
 *   context is carried: the integration parents its spans itself), the same for a session its sampler does not record
 *   (`AlwaysOffSampler`: the integration then takes only the lifecycle), the same with `perProcessor: false` (session and
 *   turn spans from the task's input and output only), without one but with `storage: true` (its own
 *   AsyncLocalStorage; compared with no observer run inside an AsyncLocalStorage, the cost of a per-task context alone,
 *   on every promise), and with `AsyncLocalStorageContextManager` registered and in use (as in an application whose
 *   SDK runs work in contexts), compared with no observer under the same context manager. Last, the same pipeline
 *   through `run()`, which keeps its pull mode when observed, with no observer (compared with the task) and with
 *   the counting and `at` observers (compared with `run()` unobserved).
 * - B2 observed: the same for `pipeline(10 async generators)`.
 * - Slow observer: an observer that takes 1 ms per event (it awaits a timer) on B1: its queue fills, the task stops
 *   recording and only counts the surplus as dropped, and the pipeline does not wait for the observer.
 *
 * Targets (issue: observability): one observer ≤ 1.10x the time of none; OpenTelemetry ≤ 1.25x; the slow observer ~1.0x.
 * `BENCH_OBS=B1` (or `B2`, or `slow` for the slow observer) runs only that part.
 * Environment: `BENCH_FRAMES` (default 200,000 here), `BENCH_REPS` (default 3). Run alone: `npx tsx bench/observe.ts`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { pathToFileURL } from 'node:url'
import { ROOT_CONTEXT, context, createContextKey } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AlwaysOffSampler, BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { Frames, PipelineTask, latencyBreakdown, map, pipeline, run, type Frame, type ObserverObject, type Observer, type Processor } from '../lib/index.js'
import { openTelemetry } from '../lib/otel/index.js'
import { formatTable, taskPass, timeSideBySide, type BenchRow } from './harness.js'
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

/**
 * The floor: the least that recording every frame at every stage can cost, written by hand into the stages themselves
 * (no observer, no filter, no capacity or drop accounting, no lifecycle): each event is three stores into a
 * preallocated ring (frame, step, time), the time read once per job of the event loop (once per event when it is
 * alone in its job, as for a generator's output), and a reader on a later turn counts what was written.
 */
class FloorRecorder {
  private static readonly SIZE = 1 << 16
  private readonly frames = new Array<Frame | undefined>(FloorRecorder.SIZE).fill(undefined)
  private readonly steps = new Uint8Array(FloorRecorder.SIZE)
  private readonly times = new Float64Array(FloorRecorder.SIZE)
  private written = 0
  private read = 0
  private time = -1
  private scheduled = false
  counted = 0
  private readonly endJob = (): void => {
    this.time = -1
  }
  private readonly deliver = (): void => {
    this.scheduled = false
    this.counted += this.written - this.read
    this.read = this.written
  }

  record(frame: Frame, step: number, alone: boolean): void {
    let time = this.time
    if (time < 0) {
      time = performance.now()
      if (!alone) {
        this.time = time
        void SETTLED.then(this.endJob)
      }
    }
    const i = this.written++ & (FloorRecorder.SIZE - 1)
    this.frames[i] = frame
    this.steps[i] = step
    this.times[i] = time
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.deliver)
    }
  }

  /** Resolves once the reader has counted everything written. */
  async idle(): Promise<void> {
    while (this.read < this.written || this.scheduled) await new Promise<void>((resolve) => setImmediate(resolve))
  }
}
const SETTLED = Promise.resolve()
let floor = new FloorRecorder()

/** Stage `k` of the floor: the frame through the stage's transform, its events recorded in {@link floor}. */
function floorStep(frame: Frame, k: number, alone: boolean): Frame {
  const rec = floor
  if (k === 0) rec.record(frame, STAGES, alone)
  const out = (transforms[k] as (frame: Frame) => Frame)(frame)
  rec.record(out, k, alone)
  if (k === STAGES - 1) rec.record(out, STAGES + 1, alone)
  return out
}
/** `pipeline(map × 10)` recording its own events into {@link floor}: 12 per frame (input, each map, output). */
const floorSyncStages = (): Processor => pipeline(...transforms.map((_, k) => map((frame: Frame) => floorStep(frame, k, false), `map${k}`)))
/** `pipeline(10 async generators)` recording its own events into {@link floor}, each output alone in its job. */
const floorGeneratorStages = (): Processor =>
  pipeline(
    ...transforms.map(
      (_, k): Processor =>
        async function* general(source) {
          for await (const frame of source) yield floorStep(frame, k, true)
        },
    ),
  )

/** Text frames with a `userTurn` app frame every TURN_EVERY frames (what starts a turn for the latency observers). */
function input(n: number): Frame[] {
  return Array.from({ length: n }, (_, i) => (i % TURN_EVERY === 0 ? Frames.app('userTurn', { i }) : Frames.text('x')))
}
const isTurnStart = (f: Frame): boolean => f.kind === 'app' && f.type === 'userTurn'

/**
 * One pass with `run()` (pull mode, observed or not): read to the end, then until every observer has received the
 * `ended` event (the last one).
 */
async function runPulled(processor: Processor, frames: readonly Frame[], observe: readonly Observer[]): Promise<void> {
  let ended = 0
  const watched = observe.map((o): Observer => {
    if (typeof o === 'function') return (e) => (e.type === 'ended' && ended++, o(e))
    if (o.onEvents !== undefined) {
      const onEvents = o.onEvents.bind(o)
      return Object.assign(Object.create(o) as ObserverObject, {
        onEvents: (batch: Parameters<typeof onEvents>[0]) => {
          for (let i = 0; i < batch.length; i++) if (batch.type(i) === 'ended') ended++
          return onEvents(batch)
        },
      })
    }
    const onEvent = (o.onEvent as NonNullable<ObserverObject['onEvent']>).bind(o)
    return Object.assign(Object.create(o) as ObserverObject, { onEvent: (e: Parameters<typeof onEvent>[0]) => (e.type === 'ended' && ended++, onEvent(e)) })
  })
  let n = 0
  for await (const _ of run(processor, frames, watched.length === 0 ? {} : { observe: watched })) n++
  for (let i = 0; i < 10_000 && ended < watched.length; i++) await new Promise<void>((resolve) => setImmediate(resolve))
  if (n !== frames.length + 2 || ended < watched.length) throw new Error(`expected ${frames.length + 2} frames out and every observer ended, got ${n}`)
}

interface Variant {
  readonly name: string
  readonly observers: () => Observer[]
  readonly note?: () => string
  /** The variant this one is compared with (default: no observer). */
  readonly baseline?: string
  readonly target?: string
  /** Runs with an OpenTelemetry context manager registered. */
  readonly contextManager?: boolean
  /** Runs the task inside an AsyncLocalStorage of its own (what per-task context costs by itself). */
  readonly asyncLocalStorage?: boolean
  /** Runs the pass with `run()` (pull mode) instead of `PipelineTask` + `frames()`. */
  readonly pulled?: boolean
  /** Runs the hand-written floor ({@link FloorRecorder}) instead of the benchmark's pipeline. */
  readonly floor?: boolean
}

const storage = new AsyncLocalStorage<string>()
/** Runs `fn` (the task is created and run inside it) with an AsyncLocalStorage enabled, disabled after. */
async function withAsyncLocalStorage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await storage.run('bench', fn)
  } finally {
    storage.disable()
  }
}

const contextManager = new AsyncLocalStorageContextManager()
const APP = createContextKey('bench app')
/**
 * Runs `fn` with the context manager registered and in use, as in an application whose SDK and instrumentations run
 * their work in contexts (the manager's AsyncLocalStorage is enabled); unregistered after, since its hook costs every
 * later run.
 */
async function withContextManager<T>(fn: () => Promise<T>): Promise<T> {
  context.setGlobalContextManager(contextManager.enable())
  try {
    return await context.with(ROOT_CONTEXT.setValue(APP, true), fn)
  } finally {
    context.disable()
  }
}

const exporter = new InMemorySpanExporter()
// A batching span processor, as in production (the simple one exports each span on its own: ~3x the CPU per span).
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65_536 })] })
const tracer = provider.getTracer('bench')
// The same, with a sampler that records no session (what the sessions a ratio sampler drops cost).
const unsampledTracer = new BasicTracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new BatchSpanProcessor(exporter)] }).getTracer('bench')

const NO_OBSERVER = 'no observer'
/** Spans exported by the last pass of each OpenTelemetry variant. */
const spansOf = new Map<string, number>()

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}
const NO_OBSERVER_CM = 'no observer, context manager in use'
const NO_OBSERVER_ALS = 'no observer, inside an AsyncLocalStorage'
const NO_OBSERVER_RUN = 'run() (pull mode), no observer'

const FLOOR = 'floor: the same events recorded by hand in the stages (ring, job clock, batch count)'

function variants(processor: () => Processor): Variant[] {
  let events = 0
  let batched = 0
  let ends = 0
  const otel = (storage = false, perProcessor = true, traceWith = tracer) => (): Observer[] => {
    exporter.reset()
    return [openTelemetry({ tracer: traceWith, isTurnStart, processor: processor(), storage, perProcessor })]
  }
  /** One observer of the task's input and output, counting their frame events. */
  const endsOnly = (): Observer[] => {
    ends = 0
    return [{ name: 'ends', at: ['input', 'output'], onEvent: (e) => void (e.type === 'frame' && ends++) }]
  }
  const counting = (): Observer[] => {
    batched = 0
    return [
      {
        name: 'batches',
        onEvents(batch) {
          for (let i = 0; i < batch.length; i++) if (batch.type(i) === 'frame') batched++
        },
      },
    ]
  }
  return [
    { name: NO_OBSERVER, observers: () => [] },
    { name: FLOOR, observers: () => [], floor: true, note: () => `${floor.counted} events in the last run` },
    {
      name: 'one observer, onEvent (counts frame events)',
      observers: () => {
        events = 0
        return [(e) => void (e.type === 'frame' && events++)]
      },
      note: () => `${events} events in the last run`,
      target: 'target ≤ 1.10x',
    },
    {
      name: 'one observer, onEvents batches (counts frame events)',
      observers: counting,
      note: () => `${batched} events in the last run`,
      target: 'target ≤ 1.10x',
    },
    {
      name: "one observer, at: ['input', 'output']",
      observers: endsOnly,
      note: () => `${ends} events in the last run`,
    },
    { name: 'latencyBreakdown()', observers: () => [latencyBreakdown({ isTurnStart, processor: processor() })] },
    {
      name: 'OpenTelemetry, no context manager',
      observers: otel(),
      target: 'target ≤ 1.25x',
    },
    {
      name: 'OpenTelemetry, no context manager, session not sampled (AlwaysOffSampler)',
      observers: otel(false, true, unsampledTracer),
      target: 'target ≤ 1.25x',
    },
    {
      name: 'OpenTelemetry, no context manager, perProcessor: false (session and turn spans)',
      observers: otel(false, false),
      target: 'target ≤ 1.25x',
    },
    { name: NO_OBSERVER_ALS, observers: () => [], asyncLocalStorage: true, baseline: NO_OBSERVER },
    {
      name: 'OpenTelemetry, no context manager, storage: true, vs no observer inside an AsyncLocalStorage',
      observers: otel(true),
      baseline: NO_OBSERVER_ALS,
    },
    { name: NO_OBSERVER_CM, observers: () => [], contextManager: true, baseline: NO_OBSERVER },
    {
      name: 'OpenTelemetry, context manager in use, vs no observer with it',
      observers: otel(),
      contextManager: true,
      baseline: NO_OBSERVER_CM,
      target: 'target ≤ 1.25x',
    },
    { name: NO_OBSERVER_RUN, observers: () => [], pulled: true, baseline: NO_OBSERVER },
    {
      name: 'run() (pull mode), one observer, onEvents batches',
      observers: counting,
      pulled: true,
      baseline: NO_OBSERVER_RUN,
      note: () => `${batched} events in the last run`,
      target: 'target ≤ 1.10x',
    },
    {
      name: "run() (pull mode), one observer, at: ['input', 'output']",
      observers: endsOnly,
      pulled: true,
      baseline: NO_OBSERVER_RUN,
      note: () => `${ends} events in the last run`,
    },
  ]
}

async function observedRows(bench: string, processor: () => Processor, n: number, reps: number): Promise<BenchRow[]> {
  const frames = input(n)
  const list = variants(processor)
  // CPU time of the process per pass, next to the wall time: on a shared machine it varies much less.
  const cpu = new Map<string, number[]>()
  const pass = (v: Variant) => async (): Promise<void> => {
    const once = async (): Promise<unknown> => {
      if (v.floor === true) {
        floor = new FloorRecorder()
        await taskPass(processor === syncStages ? floorSyncStages() : floorGeneratorStages(), frames, [])
        return floor.idle()
      }
      return v.pulled === true ? runPulled(processor(), frames, v.observers()) : taskPass(processor(), frames, v.observers())
    }
    const c0 = process.cpuUsage()
    await (v.contextManager === true ? withContextManager(once) : v.asyncLocalStorage === true ? withAsyncLocalStorage(once) : once())
    // The spans of the pass are exported within it.
    if (v.name.startsWith('OpenTelemetry')) {
      await provider.forceFlush()
      spansOf.set(v.name, exporter.getFinishedSpans().length)
    }
    const c = process.cpuUsage(c0)
    const list = cpu.get(v.name) ?? []
    list.push((c.user + c.system) / 1000)
    cpu.set(v.name, list)
  }
  const times = await timeSideBySide(Object.fromEntries(list.map((v) => [v.name, pass(v)])), reps)
  // The first pass of each variant is the warm-up of timeSideBySide: left out, as for the wall time.
  const cpuMs = (name: string): number => median((cpu.get(name) ?? []).slice(1))
  return list.map((v) => {
    const ms = times[v.name] as number
    const baseline = v.name === NO_OBSERVER ? undefined : (v.baseline ?? NO_OBSERVER)
    const ratio =
      baseline === undefined
        ? `baseline; CPU ${cpuMs(v.name).toFixed(0)} ms`
        : `${(ms / (times[baseline] as number)).toFixed(2)}x the time of ${baseline}, ${(cpuMs(v.name) / cpuMs(baseline)).toFixed(2)}x its CPU time`
    const spans = spansOf.get(v.name)
    const note = [ratio, v.target, v.note?.(), spans === undefined ? undefined : `${spans} spans per run`].filter((s) => s !== undefined && s !== '').join('; ')
    const row: BenchRow = { bench, variant: v.name, frames: n, ms, stages: STAGES, note }
    return baseline === undefined ? row : { ...row, baseline }
  })
}

async function slowObserverRows(n: number, reps: number): Promise<BenchRow[]> {
  const frames = input(n)
  let dropped = 0
  let delivered = 0
  const slow = (): ObserverObject => ({ name: 'slow', capacity: 1024, onEvent: () => new Promise<void>((resolve) => setTimeout(resolve, 1)) })
  /** The pipeline's time alone: the slow observer is detached once the task is over (its backlog is not waited for). */
  const slowRun = async (): Promise<void> => {
    const task = new PipelineTask(syncStages())
    const handle = task.observe(slow())
    let out = 0
    const reading = (async () => {
      for await (const _ of task.frames()) out++
    })()
    const done = task.run()
    await task.queueFrames(frames)
    task.stopWhenDone()
    await done
    await reading
    if (out !== frames.length + 2) throw new Error('lost frames')
    const stats = handle.stats()
    dropped = stats.dropped
    delivered = stats.delivered
    handle.detach()
  }
  const times = await timeSideBySide(
    {
      'no observer': async () => void (await taskPass(syncStages(), frames, [])),
      'slow observer (1 ms per event, queue 1024)': slowRun,
    },
    reps,
  )
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
      note: `${(slowMs / base).toFixed(2)}x the time of no observer (target ~1.0x); when the task had ended, ${delivered} events delivered, ${dropped} dropped and counted`,
    },
  ]
}

/** Every row of this benchmark. */
export async function bench(n = benchFrames(200_000), reps = benchReps()): Promise<BenchRow[]> {
  const only = process.env['BENCH_OBS']
  return [
    ...(only === undefined || only === 'B1' ? await observedRows('B1 observed', syncStages, n, reps) : []),
    ...(only === undefined || only === 'B2' ? await observedRows('B2 observed', generatorStages, n, reps) : []),
    ...(only === undefined || only === 'slow' ? await slowObserverRows(n, reps) : []),
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
