/**
 * Lifecycle laws every processor should obey, as fast-check properties that run with any test runner.
 *
 * Each law calls the processor directly (no task around it) with a fresh context over a probe source that yields
 * `start`, generated frames, `end`, and records how it is consumed:
 *
 * - `passesLifecycle`: the output starts with the `start` frame (same parameters) and ends with `end`, each exactly
 *   once, and the processor neither throws nor hangs;
 * - `noEmitAfterEnd`: nothing follows `end`, and once done the output stays done without reading its source again;
 * - `teardownOnBreak`: when the consumer stops after `k` frames (`return()` on the output), `return()` settles, the
 *   source is closed (returned or read to its end), and it is never read again;
 * - `noUnhandledRejection`: no promise rejection goes unhandled during a full run or an early break (Node's
 *   `process` `'unhandledRejection'` event; where there is no `process`, this law only checks that the runs finish);
 * - `flushesAtEnd`: `end` drains — the last frame before `end` is not silently lost. If that frame changes the output
 *   when more frames follow it, it must change the output when `end` follows it too (a processor that holds frames
 *   and forgets them at `end` breaks this; a filter that always drops the frame does not). Judged from the outside,
 *   it also fails a composition whose aggregator flushes a frame at `end` that a later filter drops alone but keeps
 *   joined with more; leave it out (`laws`) for such a composition;
 * - `freshAfterInterruption`: no content from before an interruption leaks into the next turn. The run is
 *   interrupted as a task does, once the processor has emitted what it could: `ctx.signal` aborts, then
 *   `startInterruption` is read. What the processor emits in reaction to that frame (dropping or flushing the
 *   interrupted turn) is its own business; once it has read the next frame, the data and app frames it emits (both
 *   directions) must be those of a fresh run over the frames after the interruption. Control and system frames are
 *   not compared (queued control frames are kept in order by design). A processor that keeps half a sentence across
 *   the interruption breaks this. Leave this law out (`laws`) for processors that keep state across turns on
 *   purpose (a conversation history).
 *
 * The processor is called once per generated case, so state it keeps outside its generator carries over between
 * cases. The laws use real timers (captured when the module loads), also while a test has fake timers installed.
 * @module
 */
import fc from 'fast-check'
import type { Arbitrary } from 'fast-check'
import { processorName, type ProcessorFn } from '../core/processor.js'
import { format } from '../frames/format.js'
import type { Frame, StartParams } from '../frames/types.js'
import { arbFrames } from './arbitraries.js'
import { frameKey } from './normalize.js'
import { probeRun, settle, type ProbeReport } from './probe.js'

/** The names of the lifecycle laws. */
export type LawName =
  | 'passesLifecycle'
  | 'noEmitAfterEnd'
  | 'teardownOnBreak'
  | 'noUnhandledRejection'
  | 'flushesAtEnd'
  | 'freshAfterInterruption'

/**
 * Every lifecycle law, in the order {@link checkLifecycleLaws} checks them.
 * @example
 * ```ts
 * for (const law of LAWS) test(law, () => checkLaw(law, myProcessor))
 * ```
 */
export const LAWS: readonly LawName[] = Object.freeze([
  'passesLifecycle',
  'noEmitAfterEnd',
  'teardownOnBreak',
  'noUnhandledRejection',
  'flushesAtEnd',
  'freshAfterInterruption',
])

/** What the number `k` of a counterexample `[frames, k]` means for each law. */
const BREAK_POINT: { readonly [L in LawName]: (k: number) => string } = {
  passesLifecycle: () => 'k is not used by this law',
  noEmitAfterEnd: () => 'k is not used by this law',
  teardownOnBreak: (k) => `k = ${k}: the consumer takes ${k} output frames, then stops (return() on the output)`,
  noUnhandledRejection: (k) => `k = ${k}: the second run stops after ${k} output frames (return() on the output)`,
  flushesAtEnd: (k) => `k = ${k}: the first 1 + (${k} mod n) of the n frames are followed by end (or by the rest, then end)`,
  freshAfterInterruption: (k) => `k = ${k}: the interruption comes after the first ${k} mod (n + 1) of the n frames`,
}

/** Options of the law checks. */
export interface LawOptions {
  /** Generated cases per law. Default 100. */
  readonly numRuns?: number
  /** fast-check seed, to replay a failure. */
  readonly seed?: number
  /** The frames between `start` and `end`; default `arbFrames()` (data and `sync` frames). */
  readonly frames?: Arbitrary<Frame[]>
  /** Parameters of the `start` frame. */
  readonly start?: Partial<StartParams>
  /** Longest wait for one step of the processor's output, in ms. Default 2000. */
  readonly timeoutMs?: number
  /** Most output frames per run before it counts as endless. Default 10 000. */
  readonly maxOutput?: number
  /** More fast-check parameters (`verbose`, `path`, `endOnFailure`, …). */
  readonly parameters?: fc.Parameters<[Frame[], number]>
}

/** Options of {@link checkLifecycleLaws}. */
export interface LifecycleLawOptions extends LawOptions {
  /** The laws to check; default all of {@link LAWS}. */
  readonly laws?: readonly LawName[]
}

const describeFrames = (frames: readonly Frame[]): string => `[${frames.map((f) => format(f)).join(', ')}]`

/** Throws when the run failed or hung: every law needs a run that finished. */
function requireFinished(report: ProbeReport): void {
  if (report.failure !== undefined) throw new Error(report.failure)
  if (report.stuck !== undefined) throw new Error(report.stuck)
}

function checkPassesLifecycle(report: ProbeReport): void {
  requireFinished(report)
  const out = report.output
  const isStart = (f: Frame): boolean => f.kind === 'control' && f.type === 'start'
  const isEnd = (f: Frame): boolean => f.kind === 'control' && f.type === 'end'
  const first = out[0]
  if (first === undefined || !isStart(first)) {
    throw new Error(`the first output frame must be start, got ${first === undefined ? 'nothing' : format(first)}: ${describeFrames(out)}`)
  }
  if (frameKey(first) !== frameKey(report.input[0] as Frame)) {
    throw new Error(`the start frame was changed: sent ${format(report.input[0] as Frame)}, got ${format(first)}`)
  }
  const starts = out.filter(isStart).length
  if (starts !== 1) throw new Error(`start must be emitted once, got ${starts}: ${describeFrames(out)}`)
  const last = out[out.length - 1] as Frame
  if (!isEnd(last)) throw new Error(`the last output frame must be end, got ${format(last)}: ${describeFrames(out)}`)
  const ends = out.filter(isEnd).length
  if (ends !== 1) throw new Error(`end must be emitted once, got ${ends}: ${describeFrames(out)}`)
}

function checkNoEmitAfterEnd(report: ProbeReport): void {
  requireFinished(report)
  const out = report.output
  const endAt = out.findIndex((f) => f.kind === 'control' && f.type === 'end')
  if (endAt >= 0 && endAt < out.length - 1) {
    throw new Error(`frames after end: ${describeFrames(out.slice(endAt + 1))}`)
  }
  if (!report.doneAfterwards) throw new Error('after reporting done, next() did not stay done (or read the source again)')
}

function checkTeardown(report: ProbeReport, k: number): void {
  requireFinished(report)
  const source = report.source
  if (!source.released && source.pulls > 0) {
    throw new Error(
      report.broke
        ? `after return() at output frame ${k}, the source was neither returned nor read to its end`
        : 'the output finished without returning its source or reading it to its end',
    )
  }
  if (source.pullsAfterClose > 0) throw new Error(`the source was read ${source.pullsAfterClose} time(s) after it was closed`)
  if (!report.doneAfterwards) throw new Error(`after return() at output frame ${k}, next() did not report done at once`)
}

/** The output and upstream frames of a finished run, as a sorted list of frame keys (order between them ignored). */
function outcome(output: readonly Frame[], upstream: readonly Frame[]): string[] {
  return [...output.map((f) => frameKey(f)), ...upstream.map((f) => `upstream ${frameKey(f)}`)].sort()
}

/** The keys in `a` that `b` lacks (as multisets). */
function lacking(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>()
  for (const k of b) left.set(k, (left.get(k) ?? 0) + 1)
  const out: string[] = []
  for (const k of a) {
    const n = left.get(k) ?? 0
    if (n > 0) left.set(k, n - 1)
    else out.push(k)
  }
  return out
}

const sameOutcome = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((k, i) => k === b[i])

const shortList = (keys: readonly string[]): string => {
  const shown = keys.slice(0, 6).join(', ')
  return `[${shown}${keys.length > 6 ? `, … ${keys.length - 6} more` : ''}]`
}

interface ProbeSettings {
  readonly start: Partial<StartParams>
  readonly timeoutMs: number
  readonly maxOutput: number
}

async function finishedOutcome(processor: ProcessorFn<any, any>, body: readonly Frame[], probe: ProbeSettings): Promise<string[]> {
  const report = await probeRun(processor, body, probe)
  requireFinished(report)
  return outcome(report.output, report.upstream)
}

async function checkFlushesAtEnd(processor: ProcessorFn<any, any>, frames: readonly Frame[], k: number, probe: ProbeSettings): Promise<void> {
  if (frames.length === 0) return
  const split = 1 + (k % frames.length)
  const body = frames.slice(0, split)
  const rest = frames.slice(split)
  const last = body[body.length - 1] as Frame
  const withLast = await finishedOutcome(processor, body, probe)
  const withoutLast = await finishedOutcome(processor, body.slice(0, -1), probe)
  if (!sameOutcome(withLast, withoutLast) || rest.length === 0) return
  const more = await finishedOutcome(processor, [...body, ...rest], probe)
  const moreWithoutLast = await finishedOutcome(processor, [...body.slice(0, -1), ...rest], probe)
  if (sameOutcome(more, moreWithoutLast)) return
  throw new Error(
    `${format(last)}, the last frame before end, was lost at end: followed by ${rest.length} more frame(s) it changes ` +
      `the output (with it: ${shortList(lacking(more, moreWithoutLast))} more, ${shortList(lacking(moreWithoutLast, more))} fewer), ` +
      'followed by end it changes nothing — it was held and never flushed (or, in a composition, flushed into a ' +
      'later stage that drops it alone but keeps it joined with more: then leave this law out with `laws`)',
  )
}

/** Data and app frames: the content an interruption must not carry over (control frames are kept in order by design). */
const isContent = (frame: Frame): boolean => frame.kind === 'data' || frame.kind === 'app'

async function checkFreshAfterInterruption(processor: ProcessorFn<any, any>, frames: readonly Frame[], k: number, probe: ProbeSettings): Promise<void> {
  const at = k % (frames.length + 1)
  const settings = { ...probe, start: { ...probe.start, allowInterruptions: true } }
  const interrupted = await probeRun(processor, frames, { ...settings, interruptAt: at })
  requireFinished(interrupted)
  const mark = interrupted.nextTurnAfter
  // A processor that ended before it asked for the frames after the interruption has nothing to compare.
  if (mark === undefined) return
  const after = outcome(interrupted.output.slice(mark.output).filter(isContent), interrupted.upstream.slice(mark.upstream).filter(isContent))
  const fresh = await probeRun(processor, frames.slice(at), settings)
  requireFinished(fresh)
  const expected = outcome(fresh.output.filter(isContent), fresh.upstream.filter(isContent))
  if (sameOutcome(after, expected)) return
  throw new Error(
    `after an interruption following ${at} frame(s), the output is not that of a fresh run over the ${frames.length - at} frame(s) after it: ` +
      `${shortList(lacking(after, expected))} extra, ${shortList(lacking(expected, after))} missing — state from before the interruption was kept`,
  )
}

interface ProcessLike {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown
}

function nodeProcess(): ProcessLike | undefined {
  const p = (globalThis as { process?: Partial<ProcessLike> }).process
  return typeof p?.on === 'function' && typeof p.off === 'function' ? (p as ProcessLike) : undefined
}

async function runLaw(law: LawName, processor: ProcessorFn<any, any>, frames: Frame[], k: number, options: LawOptions): Promise<void> {
  const probe = { start: options.start ?? {}, timeoutMs: options.timeoutMs ?? 2000, maxOutput: options.maxOutput ?? 10_000 }
  switch (law) {
    case 'passesLifecycle':
      checkPassesLifecycle(await probeRun(processor, frames, probe))
      return
    case 'noEmitAfterEnd':
      checkNoEmitAfterEnd(await probeRun(processor, frames, probe))
      return
    case 'teardownOnBreak': {
      const report = await probeRun(processor, frames, { ...probe, breakAfter: k })
      await settle()
      checkTeardown(report, k)
      return
    }
    case 'flushesAtEnd':
      await checkFlushesAtEnd(processor, frames, k, probe)
      return
    case 'freshAfterInterruption':
      await checkFreshAfterInterruption(processor, frames, k, probe)
      return
    case 'noUnhandledRejection': {
      const proc = nodeProcess()
      const seen: unknown[] = []
      const listener = (reason: unknown): void => {
        seen.push(reason)
      }
      proc?.on('unhandledRejection', listener)
      try {
        const full = await probeRun(processor, frames, probe)
        await settle()
        const broken = await probeRun(processor, frames, { ...probe, breakAfter: k })
        await settle()
        if (full.stuck !== undefined) throw new Error(full.stuck)
        if (broken.stuck !== undefined) throw new Error(broken.stuck)
      } finally {
        proc?.off('unhandledRejection', listener)
      }
      if (seen.length > 0) {
        const reasons = seen.map((r) => (r instanceof Error ? `${r.name}: ${r.message}` : String(r)))
        throw new Error(`unhandled rejection(s): ${reasons.join('; ')}`)
      }
      return
    }
    default:
      throw new TypeError(`unknown law ${String(law)}`)
  }
}

function validate(law: unknown, processor: unknown, options: unknown): asserts options is LawOptions {
  if (typeof law !== 'string' || !(LAWS as readonly string[]).includes(law)) {
    throw new TypeError(`unknown law ${String(law)}; the laws are ${LAWS.join(', ')}`)
  }
  if (typeof processor !== 'function') throw new TypeError('the law checks need a processor function')
  if (options === null || typeof options !== 'object') throw new TypeError('law options must be an object')
}

/**
 * fast-check's report of a failed property, with the reason (kept as its `cause`) spelled out first.
 * @example
 * ```ts
 * const property = lawProperty('passesLifecycle', myProcessor)
 * try { await fc.assert(property) } catch (err) { throw new Error(failureText(err)) }
 * ```
 */
export function failureText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const cause = err instanceof Error ? err.cause : undefined
  if (cause instanceof Error && !message.includes(cause.message)) return `${cause.message}\n${message}`
  return message
}

/**
 * One law as a fast-check property over (frames, k), to run with `fc.assert` or `@fast-check/vitest`. `k` is where
 * `teardownOnBreak` and `noUnhandledRejection` break off.
 *
 * @example
 * ```ts
 * await fc.assert(lawProperty('teardownOnBreak', myProcessor), { numRuns: 200 })
 * ```
 */
export function lawProperty(
  law: LawName,
  processor: ProcessorFn<any, any>,
  options: LawOptions = {},
): fc.IAsyncProperty<[Frame[], number]> {
  validate(law, processor, options)
  const frames = options.frames ?? arbFrames()
  return fc.asyncProperty(frames, fc.nat({ max: 32 }), (body, k) => runLaw(law, processor, body, k, options))
}

/**
 * Checks one law; rejects with an error naming the law and the processor, with fast-check's counterexample.
 *
 * @example
 * ```ts
 * await checkLaw('noEmitAfterEnd', myProcessor, { numRuns: 50 })
 * ```
 */
export async function checkLaw(law: LawName, processor: ProcessorFn<any, any>, options: LawOptions = {}): Promise<void> {
  const property = lawProperty(law, processor, options)
  const params: fc.Parameters<[Frame[], number]> = { ...options.parameters, numRuns: options.numRuns ?? options.parameters?.numRuns ?? 100 }
  if (options.seed !== undefined) params.seed = options.seed
  const details = await fc.check(property, params)
  if (!details.failed) return
  const report = new Error(fc.defaultReportMessage(details) ?? 'the property failed', { cause: details.errorInstance })
  const k = details.counterexample?.[1]
  const explained = k === undefined ? '' : `\nIn the counterexample [frames, k], ${BREAK_POINT[law](k)}.`
  throw new Error(`law ${law} failed for processor ${describeProcessor(processor)}: ${failureText(report)}${explained}`, { cause: report })
}

/**
 * How a processor is named in failures: its display name, else (for an anonymous function) the start of its source
 * text, so that the failing one can be found.
 * @example
 * ```ts
 * describeProcessor(named('tts', p)) // 'tts'
 * describeProcessor(async function* (source) { yield* source }) // 'anonymous (async function* (source) { yield* source })'
 * ```
 */
export function describeProcessor(processor: ProcessorFn<any, any>): string {
  const name = processorName(processor, '')
  if (name !== '') return name
  let text: string
  try {
    text = Function.prototype.toString.call(processor).replace(/\s+/g, ' ').trim()
  } catch {
    text = ''
  }
  if (text === '') return 'anonymous'
  return `anonymous (${text.length > 80 ? `${text.slice(0, 80)}…` : text})`
}

/**
 * Checks the lifecycle laws on `processor` (all of {@link LAWS} unless `options.laws` picks some): resolves when they
 * hold, rejects with the first law that fails, its counterexample and the reason. Works with any test runner.
 *
 * @example
 * ```ts
 * import { checkLifecycleLaws } from 'apipeline-ts/testing'
 *
 * test('my processor obeys the lifecycle laws', async () => {
 *   await checkLifecycleLaws(myProcessor, { numRuns: 50 })
 * })
 * ```
 */
export async function checkLifecycleLaws(processor: ProcessorFn<any, any>, options: LifecycleLawOptions = {}): Promise<void> {
  const laws = options.laws ?? LAWS
  if (!Array.isArray(laws) || laws.length === 0) throw new TypeError('checkLifecycleLaws({ laws }) must be a non-empty array of law names')
  for (const law of laws) validate(law, processor, options)
  for (const law of laws) await checkLaw(law, processor, options)
}
