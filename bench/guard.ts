/**
 * GUARD: what error containment (rule 6) and teardown of a stage next to a stuck one (rule 4) cost on B2's ten general
 * `async function*` processors, measured as minimal prototypes of each guard design side by side with the bare chain
 * and the library, plus the promise reactions per frame per stage of each (counted with `v8.promiseHooks`).
 *
 * Every prototype wraps the same ten generators over the same source and restarts a processor that throws (on the
 * rest of its input, reporting the error); what differs is where the guard sits and what the downstream generator
 * awaits:
 *
 * - `derived`: the downstream generator awaits `inner.next().then(onResult, onError)` of the upstream stage (one
 *   reaction per frame per stage). Rule 6 holds; rule 4 does not (that promise settles only when the upstream
 *   generator moves: the stage after one stuck in a foreign await can never run its `finally`).
 * - `derived, last raw`: the same, the last stage read raw by the consumer inside its own `try` (9 reactions).
 * - `settle-able`: the downstream generator awaits a promise of the stage's own (`new Promise` per read) that the
 *   guard's reaction settles, and teardown can settle with `done` (rules 4 and 6: the library's design).
 * - `thenable`: the settle-able read as a reused thenable (`await` calls its `then` with resolvers of its own).
 * - `settle-able only when not parked`: a settle-able promise only when the upstream generator did not go back to
 *   its own source synchronously (else a derived one). Not correct: a generator that reads a frame and then enters a
 *   foreign await leaves its consumer on a promise nobody can settle. Measured for the bound.
 * - `one guard per N stages`: a rejection surfaces at the next guard, killing the innocent stages in between (rule 6
 *   broken: their state is lost; rule 4 too, a boundary without a guard being the raw promise). Measured for the bound.
 *
 * Before timing, `containment()` and `finalization()` check each design's claims about rules 6 and 4 (they throw when
 * a design meant to keep a rule does not).
 *
 * Environment: `BENCH_GUARD_FRAMES` (default 100,000), `BENCH_GUARD_REPS` (rounds, default 9), `BENCH_CLOCK`.
 * Run alone: `npx tsx bench/guard.ts`.
 */
import { promiseHooks } from 'node:v8'
import { pathToFileURL } from 'node:url'
import { Frames, pipeline, run, type Frame, type Processor } from '../lib/index.js'
import { formatTable, passClock, type BenchRow } from './harness.js'

const STAGES = 10

/** A positive integer from the environment, or `fallback`. */
function envInt(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

type Gen = (source: AsyncIterable<Frame>) => AsyncIterator<Frame>
type Step = (frame: Frame) => Frame

/** Ten distinct pass-through transforms (as in B2). */
const transforms: Step[] = Array.from({ length: STAGES }, (_, k) => {
  const stage = k
  return (frame: Frame) => (stage < 0 ? Frames.text('never') : frame)
})

interface GeneratorModule {
  generator: (fn: Step) => Gen
  processor: (fn: Step) => Processor
  source: (frames: readonly Frame[]) => AsyncIterator<Frame> & AsyncIterable<Frame>
  count: (frames: AsyncIterable<Frame>) => Promise<number>
}

/** A fresh instance of the generator module (its own type feedback) for one variant. */
async function generatorsFor(variant: string): Promise<GeneratorModule> {
  const url = new URL(`./guard-generator.ts?variant=${encodeURIComponent(variant)}`, import.meta.url)
  return (await import(url.href)) as GeneratorModule
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

function isFrameShaped(value: unknown): value is Frame {
  if (typeof value !== 'object' || value === null) return false
  const kind = (value as { kind?: unknown }).kind
  return kind === 'data' || kind === 'system' || kind === 'control' || kind === 'app'
}

/** A stage's view of its source: `return()` (the end of `for await`) leaves the shared source open for a restart. */
class View implements AsyncIterableIterator<Frame> {
  pulls = 0
  constructor(private readonly read: () => Promise<IteratorResult<Frame>>) {}
  next(): Promise<IteratorResult<Frame>> {
    this.pulls++
    return this.read()
  }
  return(): Promise<IteratorResult<Frame>> {
    return Promise.resolve(DONE)
  }
  [Symbol.asyncIterator](): this {
    return this
  }
}

/** What the prototypes share: the processor, its restart on failure and the errors it reported. */
abstract class ProtoStage {
  inner!: AsyncIterator<Frame>
  view!: View
  finished = false
  readonly errors: unknown[] = []
  constructor(
    private readonly gen: Gen,
    protected readonly upstream: () => Promise<IteratorResult<Frame>>,
  ) {
    this.launch()
  }
  protected launch(): void {
    this.view = new View(this.upstream)
    this.inner = this.gen(this.view)
  }
  /** Rule 6: report, restart on the rest of the input; false when the stage ends instead. */
  protected recover(err: unknown): boolean {
    this.errors.push(err)
    if (this.view.pulls === 0) {
      this.finished = true
      return false
    }
    this.launch()
    return true
  }
  abstract read(): Promise<IteratorResult<Frame>>
  /** The reaction of a derived read: the result, or the next read for a value that is not a frame (rule 6). */
  protected readonly onDerived = (r: IteratorResult<Frame>): IteratorResult<Frame> | Promise<IteratorResult<Frame>> => {
    if (r.done === true) this.finished = true
    else if (!isFrameShaped(r.value)) return this.read()
    return r
  }
  /** The rejection of a derived read: the stage recovers and reads on, or ends. */
  protected readonly onDerivedError = (err: unknown): IteratorResult<Frame> | Promise<IteratorResult<Frame>> =>
    this.recover(err) ? this.read() : DONE
  /** Teardown: the processor is returned (its `finally` runs once it is at a `yield`, or as soon as it resumes). */
  teardown(): void {
    this.finished = true
    this.inner.return?.(undefined).catch(() => {})
  }
}

/** The downstream generator awaits the derived promise of the guard's reaction. */
class DerivedStage extends ProtoStage {
  read(): Promise<IteratorResult<Frame>> {
    if (this.finished) return Promise.resolve(DONE)
    return this.inner.next().then(this.onDerived, this.onDerivedError)
  }
  /** The raw promise, for a consumer that guards this stage itself. */
  rawNext(): Promise<IteratorResult<Frame>> {
    return this.inner.next()
  }
  rawError(err: unknown): boolean {
    return this.recover(err)
  }
}

/** The downstream generator awaits a promise of the stage's own, settled by the guard's reaction or by teardown. */
class SettleableStage extends ProtoStage {
  protected settle: ((r: IteratorResult<Frame>) => void) | undefined
  private readonly request = (resolve: (r: IteratorResult<Frame>) => void): void => {
    this.settle = resolve
    this.inner.next().then(this.onResult, this.onError)
  }
  protected readonly onResult = (r: IteratorResult<Frame>): void => {
    const settle = this.settle
    if (settle === undefined) return
    if (r.done === true) this.finished = true
    else if (!isFrameShaped(r.value)) {
      this.inner.next().then(this.onResult, this.onError)
      return
    }
    this.settle = undefined
    settle(r)
  }
  protected readonly onError = (err: unknown): void => {
    if (this.recover(err)) this.inner.next().then(this.onResult, this.onError)
    else this.teardown()
  }
  read(): Promise<IteratorResult<Frame>> {
    if (this.finished) return Promise.resolve(DONE)
    return new Promise(this.request)
  }
  /** Teardown: the pending read ends at once, then the processor is returned. */
  override teardown(): void {
    const settle = this.settle
    this.settle = undefined
    settle?.(DONE)
    super.teardown()
  }
}

/**
 * Settle-able only when the upstream generator did not synchronously go back to its own source (after `next()` it is
 * parked on a read that teardown can end); otherwise derived. Incorrect (see the module documentation).
 */
class ArmedWhenBusyStage extends SettleableStage {
  override read(): Promise<IteratorResult<Frame>> {
    if (this.finished) return Promise.resolve(DONE)
    const before = this.view.pulls
    const step = this.inner.next()
    if (this.view.pulls !== before) return step.then(this.onDerived, this.onDerivedError)
    return new Promise((resolve) => {
      this.settle = resolve
      step.then(this.onResult, this.onError)
    })
  }
}

/** The settle-able read as one reused thenable per stage: `await` calls `then(resolve, reject)`. */
class ThenableStage extends ProtoStage {
  private settle: ((r: IteratorResult<Frame>) => void) | undefined
  private readonly thenable = { then: (resolve: (r: IteratorResult<Frame>) => void): void => this.request(resolve) }
  private readonly onResult = (r: IteratorResult<Frame>): void => {
    const settle = this.settle
    if (settle === undefined) return
    if (r.done === true) this.finished = true
    else if (!isFrameShaped(r.value)) {
      this.pull()
      return
    }
    this.settle = undefined
    settle(r)
  }
  private readonly onError = (err: unknown): void => {
    if (this.recover(err)) this.pull()
    else this.teardown()
  }
  /** Teardown: the pending read ends at once, then the processor is returned. */
  override teardown(): void {
    const settle = this.settle
    this.settle = undefined
    settle?.(DONE)
    super.teardown()
  }
  private request(resolve: (r: IteratorResult<Frame>) => void): void {
    this.settle = resolve
    this.pull()
  }
  read(): Promise<IteratorResult<Frame>> {
    if (this.finished) return Promise.resolve(DONE)
    return this.thenable as unknown as Promise<IteratorResult<Frame>>
  }
  private pull(): void {
    this.inner.next().then(this.onResult, this.onError)
  }
}

/** A stage with no guard of its own: a rejection goes to whatever awaits it (the next guard, N stages later). */
class UnguardedStage extends ProtoStage {
  read(): Promise<IteratorResult<Frame>> {
    return this.inner.next()
  }
}

type Kind = 'derived' | 'settle' | 'thenable' | 'armed'

function chainOf(
  kind: Kind,
  generator: GeneratorModule['generator'],
  source: AsyncIterator<Frame>,
  guardEvery = 1,
  steps: readonly Step[] = transforms,
): { last: ProtoStage } {
  return chainOfGens(
    kind,
    steps.map((step) => generator(step)),
    source,
    guardEvery,
  )
}

function chainOfGens(kind: Kind, gens: readonly Gen[], source: AsyncIterator<Frame>, guardEvery: number): { last: ProtoStage; stages: ProtoStage[] } {
  let read: () => Promise<IteratorResult<Frame>> = () => source.next()
  let last!: ProtoStage
  const stages: ProtoStage[] = []
  for (let k = 0; k < STAGES; k++) {
    const gen = gens[k] as Gen
    const guarded = (k + 1) % guardEvery === 0 || k === STAGES - 1
    last = !guarded
      ? new UnguardedStage(gen, read)
      : kind === 'derived'
        ? new DerivedStage(gen, read)
        : kind === 'settle'
          ? new SettleableStage(gen, read)
          : kind === 'thenable'
            ? new ThenableStage(gen, read)
            : new ArmedWhenBusyStage(gen, read)
    const stage = last
    stages.push(stage)
    read = () => stage.read()
  }
  return { last, stages }
}

/** Counts what a chain hands its consumer through the guarded `read()` of the last stage. */
async function countGuarded(
  kind: Kind,
  g: GeneratorModule,
  frames: readonly Frame[],
  guardEvery = 1,
  steps: readonly Step[] = transforms,
): Promise<number> {
  const { last } = chainOf(kind, g.generator, g.source(frames), guardEvery, steps)
  let n = 0
  for (;;) {
    const r = await last.read()
    if (r.done === true) return n
    n++
  }
}

/** The same, the last stage read raw by the consumer inside its own `try` (its guard). */
async function countLastRaw(g: GeneratorModule, frames: readonly Frame[], steps: readonly Step[] = transforms): Promise<number> {
  const { last } = chainOf('derived', g.generator, g.source(frames), 1, steps)
  const stage = last as DerivedStage
  let n = 0
  for (;;) {
    let r: IteratorResult<Frame>
    try {
      r = await stage.rawNext()
    } catch (err) {
      if (stage.rawError(err)) continue
      return n
    }
    if (r.done === true) return n
    if (isFrameShaped(r.value)) n++
  }
}

function handChain(g: GeneratorModule, frames: readonly Frame[]): AsyncIterable<Frame> {
  let source: AsyncIterable<Frame> = g.source(frames)
  for (const fn of transforms) {
    const up = source
    source = { [Symbol.asyncIterator]: () => g.generator(fn)(up) }
  }
  return source
}

const BARE = 'bare chain: 10 × async function*'

/** The variants: name → one pass over `frames`, resolving to the number of frames out. */
const VARIANTS: Record<string, (g: GeneratorModule, frames: readonly Frame[]) => Promise<number>> = {
  [BARE]: (g, frames) => g.count(handChain(g, frames)),
  'derived (rule 6; not rule 4)': (g, frames) => countGuarded('derived', g, frames),
  'derived, last stage raw in its consumer (rule 6; not rule 4)': (g, frames) => countLastRaw(g, frames),
  'settle-able read, new Promise per read (rules 4 and 6)': (g, frames) => countGuarded('settle', g, frames),
  'settle-able read as a reused thenable (rules 4 and 6)': (g, frames) => countGuarded('thenable', g, frames),
  'settle-able only when not parked on its source (rule 4 broken)': (g, frames) => countGuarded('armed', g, frames),
  'one guard per 2 stages (rule 6 broken)': (g, frames) => countGuarded('derived', g, frames, 2),
  'one guard for the 10 stages (rule 6 broken)': (g, frames) => countGuarded('derived', g, frames, STAGES),
  'library: pipeline(10 generators) over the same source': (g, frames) =>
    g.count(pipeline(...transforms.map(g.processor))(g.source(frames), undefined as never)),
  'library: run(pipeline(10 generators))': async (g, frames) => (await g.count(run(pipeline(...transforms.map(g.processor)), frames))) - 2,
}
/** The prototypes, over a chain whose stage 5 throws on its tenth frame: how many of the other frames come out. */
const CONTAINMENT: Record<string, (g: GeneratorModule, frames: readonly Frame[], steps: readonly Step[]) => Promise<number>> = {
  'derived (rule 6; not rule 4)': (g, frames, steps) => countGuarded('derived', g, frames, 1, steps),
  'derived, last stage raw in its consumer (rule 6; not rule 4)': (g, frames, steps) => countLastRaw(g, frames, steps),
  'settle-able read, new Promise per read (rules 4 and 6)': (g, frames, steps) => countGuarded('settle', g, frames, 1, steps),
  'settle-able read as a reused thenable (rules 4 and 6)': (g, frames, steps) => countGuarded('thenable', g, frames, 1, steps),
  'settle-able only when not parked on its source (rule 4 broken)': (g, frames, steps) => countGuarded('armed', g, frames, 1, steps),
  'one guard per 2 stages (rule 6 broken)': (g, frames, steps) => countGuarded('derived', g, frames, 2, steps),
  'one guard for the 10 stages (rule 6 broken)': (g, frames, steps) => countGuarded('derived', g, frames, STAGES, steps),
}

/**
 * Checks what each prototype claims about rule 6: with stage 5 throwing once, a design that contains the error hands
 * on every other frame (its neighbours go on); one that does not loses the rest of the stream. Returns, per variant,
 * the frames that came out of the `frames.length - 1` expected; throws when a design meant to keep rule 6 lost any.
 */
export async function containment(frames = 50): Promise<Record<string, number>> {
  const g = await generatorsFor('containment')
  const input = Array.from({ length: frames }, () => Frames.text('x'))
  const out: Record<string, number> = {}
  for (const [variant, pass] of Object.entries(CONTAINMENT)) {
    let seen = 0
    const steps = transforms.map((fn, k): Step =>
      k !== 4
        ? fn
        : (frame) => {
            if (++seen === 10) throw new Error('stage 5 fails once')
            return frame
          },
    )
    const got = await pass(g, input, steps)
    out[variant] = got
    if (!variant.includes('rule 6 broken') && got !== frames - 1) throw new Error(`${variant}: ${got} of ${frames - 1} frames after a failure`)
  }
  return out
}

/**
 * Checks what each prototype claims about rule 4: stage 5 reads a frame and then parks in a foreign await that never
 * settles; the consumer waits on the last stage; every stage is torn down. Returns, per design, how many of the nine
 * other stages ran their `finally` (a stage after the stuck one does only if the read it is parked on can be ended).
 */
export async function finalization(): Promise<Record<string, number>> {
  const designs: Record<string, [Kind, number]> = {
    'derived (rule 6; not rule 4)': ['derived', 1],
    'settle-able read, new Promise per read (rules 4 and 6)': ['settle', 1],
    'settle-able read as a reused thenable (rules 4 and 6)': ['thenable', 1],
    'settle-able only when not parked on its source (rule 4 broken)': ['armed', 1],
    'one guard per 2 stages (rule 6 broken)': ['derived', 2],
    'one guard for the 10 stages (rule 6 broken)': ['derived', STAGES],
  }
  const out: Record<string, number> = {}
  for (const [variant, [kind, guardEvery]] of Object.entries(designs)) {
    const finalized = new Set<number>()
    const gens = Array.from({ length: STAGES }, (_, k): Gen => (source) =>
      (async function* finalizing() {
        try {
          for await (const frame of source) {
            if (k === 4) await new Promise<never>(() => {})
            yield frame
          }
        } finally {
          finalized.add(k)
        }
      })(),
    )
    const input = Array.from({ length: 3 }, () => Frames.text('x'))
    const { last, stages } = chainOfGens(kind, gens, (async function* frames() {
      yield* input
    })(), guardEvery)
    // Awaited as `for await` would (a thenable read has no `catch` of its own).
    void Promise.resolve(last.read()).catch(() => {})
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    for (const stage of [...stages].reverse()) stage.teardown()
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    finalized.delete(4)
    out[variant] = finalized.size
    if (variant.includes('rules 4 and 6') && finalized.size !== STAGES - 1) {
      throw new Error(`${variant}: ${finalized.size} of ${STAGES - 1} stages finalized next to a stuck one`)
    }
  }
  return out
}

/** Promises created and reactions run per frame per stage by one pass of `pass` (after a warm-up pass). */
export async function reactionsPerFrame(pass: () => Promise<number>, frames: number): Promise<{ promises: number; reactions: number }> {
  await pass()
  let promises = 0
  let reactions = 0
  const stop = promiseHooks.createHook({
    init: () => {
      promises++
    },
    before: () => {
      reactions++
    },
  })
  try {
    await pass()
  } finally {
    stop()
  }
  return { promises: promises / frames / STAGES, reactions: reactions / frames / STAGES }
}

/**
 * Times every variant round robin (a warm-up of each, then `reps` rounds) and returns, per variant, the median time
 * and the median of its per-round ratio to the bare chain of the same round (a load that drifts during the run moves
 * both sides of a ratio alike).
 */
async function timeRatios(passes: Record<string, () => Promise<void>>, reps: number): Promise<Record<string, { ms: number; ratio: number }>> {
  const names = Object.keys(passes)
  for (const name of names) await (passes[name] as () => Promise<void>)()
  const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, [] as number[]]))
  const ratios: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, [] as number[]]))
  for (let r = 0; r < reps; r++) {
    let base = 0
    for (const name of names) {
      const t0 = passClock()
      await (passes[name] as () => Promise<void>)()
      const ms = passClock() - t0
      if (name === BARE) base = ms
      ;(times[name] as number[]).push(ms)
      ;(ratios[name] as number[]).push(ms / base)
    }
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  return Object.fromEntries(names.map((name) => [name, { ms: median(times[name] as number[]), ratio: median(ratios[name] as number[]) }]))
}

/**
 * The GUARD rows: every prototype and the library side by side, with reactions per frame per stage. `ms` is the median
 * pass; the note gives the median of the per-round ratios to the bare chain (the steadier figure on a shared machine).
 */
export async function bench(n = envInt('BENCH_GUARD_FRAMES', 100_000), reps = envInt('BENCH_GUARD_REPS', 9)): Promise<BenchRow[]> {
  const frames: Frame[] = Array.from({ length: n }, () => Frames.text('x'))
  const modules: Record<string, GeneratorModule> = {}
  for (const name of Object.keys(VARIANTS)) modules[name] = await generatorsFor(name)
  const checked: Record<string, () => Promise<void>> = {}
  for (const [name, pass] of Object.entries(VARIANTS)) {
    const g = modules[name] as GeneratorModule
    checked[name] = async () => {
      const got = await pass(g, frames)
      if (got !== n) throw new Error(`${name}: expected ${n} frames at the end, got ${got}`)
    }
  }
  const contained = await containment()
  const finalizedNextToStuck = await finalization()
  const timed = await timeRatios(checked, reps)
  const small = frames.slice(0, Math.min(n, 20_000))
  const rows: BenchRow[] = []
  for (const [variant, { ms, ratio }] of Object.entries(timed)) {
    const pass = VARIANTS[variant] as (g: GeneratorModule, frames: readonly Frame[]) => Promise<number>
    const c = await reactionsPerFrame(() => pass(modules[variant] as GeneratorModule, small), small.length)
    const kept = contained[variant]
    const closed = finalizedNextToStuck[variant]
    const after =
      (kept === undefined ? '' : `; stage 5 throwing once in 50 frames: ${kept} of 49 others out`) +
      (closed === undefined ? '' : `; stage 5 stuck at teardown: ${closed} of 9 others finalized`)
    const note = `${c.reactions.toFixed(2)} reactions and ${c.promises.toFixed(2)} promises per frame per stage${after}`
    const row: BenchRow = { bench: 'GUARD', variant, frames: n, ms, stages: STAGES, note }
    rows.push(variant === BARE ? row : { ...row, baseline: BARE, note: `${note}; per-round ratio ${ratio.toFixed(2)}x` })
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
