/**
 * The processor type and the metadata the library attaches to processor functions.
 * @module
 */
import type { Frame } from '../frames/types.js'
import type { ProcessorContext } from './context.js'
import { invokeProcessor } from './invoke.js'

/**
 * A processor: a transform of a frame stream that can be called anywhere. Every processor the library returns
 * (`pipeline(...)`, `map(...)`, the standard processors, the adapters) has this type: call it with an async or a
 * sync iterable, with or without a context. Called without one (as an it-pipe or a Node `stream.pipeline` step) it
 * runs on a detached context whose errors reject the iteration; see `detachedContext`.
 *
 * To write one, write a {@link ProcessorFn}, the shape the library calls, and pass it to `pipeline(...)` (or to any
 * combinator): a plain `async function*` or it-* transform is one. Forward the frames you do not handle.
 *
 * @example
 * ```ts
 * import { Frames, pipeline, type Processor } from 'apipeline-ts'
 *
 * const upper: Processor = pipeline(async function* upper(source) {
 *   for await (const frame of source) {
 *     yield frame.type === 'text' ? Frames.text(frame.text.toUpperCase()) : frame
 *   }
 * })
 * for await (const f of upper([Frames.text('hi')])) console.log(Frames.format(f)) // TextFrame#…(text: "HI")
 * ```
 */
export type Processor<I extends Frame = Frame, O extends Frame = Frame> = (
  source: AsyncIterable<I> | Iterable<I>,
  ctx?: ProcessorContext,
) => AsyncIterable<O>

/**
 * What the library calls: a function from an async source of frames and a context to an async iterable of frames.
 * This is what you write (an `async function*`, an it-* transform) and what `pipeline`, `run`, `PipelineTask` and
 * the combinators accept. Every {@link Processor} is one; `pipeline(fn)` turns one into a `Processor`.
 *
 * @example
 * ```ts
 * import { Frames, pipeline, type ProcessorFn } from 'apipeline-ts'
 *
 * const slow: ProcessorFn = async function* (source, ctx) {
 *   for await (const frame of source) {
 *     await new Promise((resolve) => setTimeout(resolve, 10))
 *     if (ctx.signal.aborted) continue // interrupted: drop the stale frame
 *     yield frame
 *   }
 * }
 * const p = pipeline(slow)
 * ```
 */
export type ProcessorFn<I extends Frame = Frame, O extends Frame = Frame> = (
  source: AsyncIterable<I>,
  ctx: ProcessorContext,
) => AsyncIterable<O>

/**
 * A processor that forwards every frame it does not handle, typed for whatever frame union flows through it: given
 * frames `F`, it yields `F | O`. Write pass-through processors with it and they fit any pipeline, over the default
 * `Frame` or over your own `Frame<...>` union.
 *
 * @example
 * ```ts
 * import { Frames, pipeline, type AppFrame, type Frame, type PassThrough, type Processor } from 'apipeline-ts'
 *
 * type Intent = AppFrame<'intent', { name: 'buy' | 'sell' }>
 * type Transcript = AppFrame<'transcript', { text: string }>
 * type BotFrame = Frame<Intent | Transcript>
 *
 * const detect: PassThrough<Intent> = async function* (source) {
 *   for await (const frame of source) {
 *     if (frame.type === 'text' && frame.text.includes('buy')) yield Frames.app<Intent>('intent', { name: 'buy' })
 *     yield frame
 *   }
 * }
 * const bot: Processor<BotFrame, BotFrame> = pipeline(detect)
 * ```
 */
export type PassThrough<O extends Frame = never> = <F extends Frame>(
  source: AsyncIterable<F> | Iterable<F>,
  ctx?: ProcessorContext,
) => AsyncIterable<F | O>

/** The input frame type of a processor. */
export type InputOf<P> = P extends (source: AsyncIterable<infer I>, ...rest: never[]) => AsyncIterable<Frame> ? I : never

/** The output frame type of a processor. */
export type OutputOf<P> = P extends (...args: never[]) => AsyncIterable<infer O> ? O : never

/**
 * A synchronous per-frame step: handles one frame and calls `emit` zero or more times, synchronously.
 * Consecutive stages built from steps (`map`, `filter`, `tap`, `flatMap`) run fused in one async hop.
 */
export type FrameStep = (frame: Frame, emit: (frame: Frame) => void, ctx: ProcessorContext) => void

/** Metadata the library keeps on a processor function. */
export interface ProcessorInfo {
  /** Display name used in error frames and context names. */
  readonly name?: string
  /** For `pipeline(...)`: its stages, flattened into an enclosing pipeline. */
  readonly stages?: readonly ProcessorFn<any, any>[]
  /** For per-frame operators: the step that stage fusion runs. */
  readonly step?: FrameStep
  /**
   * True for a processor that reports metrics through `ctx.metrics` (set by `measured()`, or by hand with `withInfo`).
   * Pipelines register such stages when they create their contexts, so the task's initial metrics frame lists them.
   */
  readonly metrics?: boolean
  /** What the stage is, for `describe()`: a fan-out combinator, a queue stage, or a stage that runs elsewhere. */
  readonly kind?: 'parallel' | 'syncParallel' | 'sequential' | 'buffer' | 'remote'
  /** For fan-out combinators: the branches (each a `pipeline`), for `describe()`. */
  readonly branches?: readonly Processor<any, any>[]
  /** For remote stages: where the frames are processed (a URL, a subject), for `describe()`. */
  readonly location?: string
}

const INFO = Symbol.for('apipeline.processorInfo')

/** The processors `withInfo` returned: callable anywhere, so `withInfo` on one only merges metadata. */
const CALLABLE = new WeakSet<object>()

/**
 * The metadata of `processor`, if any.
 * @example
 * ```ts
 * import { map, processorInfo } from 'apipeline-ts'
 *
 * processorInfo(map((f) => f))?.step !== undefined // true: fusable
 * ```
 */
export function processorInfo(processor: ProcessorFn<any, any>): ProcessorInfo | undefined {
  return (processor as unknown as { [INFO]?: ProcessorInfo })[INFO]
}

/**
 * Attaches metadata to a processor function (merged with what it had) and returns it as a {@link Processor}: callable
 * with a sync or async source, with or without a context (see `detachedContext`). Every processor the library builds
 * goes through here. Given a processor it returned before, it merges the metadata into that one and returns it.
 * @example
 * ```ts
 * import { withInfo, type ProcessorFn } from 'apipeline-ts'
 *
 * const llm: ProcessorFn = async function* (source, ctx) {
 *   for await (const f of source) {
 *     ctx.metrics.startTtfb()
 *     const m = ctx.metrics.stopTtfb()
 *     if (m) yield m
 *     yield f
 *   }
 * }
 * const measuredLlm = withInfo(llm, { metrics: true }) // listed in the initial metrics frame
 * ```
 */
export function withInfo<I extends Frame, O extends Frame>(processor: ProcessorFn<I, O>, info: ProcessorInfo): Processor<I, O> {
  const previous = processorInfo(processor)
  if (CALLABLE.has(processor)) {
    Object.defineProperty(processor, INFO, { value: { ...previous, ...info }, configurable: true, enumerable: false })
    return processor as unknown as Processor<I, O>
  }
  const merged: ProcessorInfo = { ...previous, ...info }
  const fn = processor
  const callable: Processor<I, O> = (source, ctx) =>
    invokeProcessor(fn, source, ctx, processorInfo(callable)?.name ?? (fn.name !== '' ? fn.name : 'processor'))
  Object.defineProperty(callable, 'name', { value: fn.name, configurable: true })
  Object.defineProperty(callable, INFO, { value: merged, configurable: true, enumerable: false })
  CALLABLE.add(callable)
  return callable
}

/** The display name of a processor: its given name, else the function's name, else `fallback`. */
export function processorName(processor: ProcessorFn<any, any>, fallback: string): string {
  const given = processorInfo(processor)?.name
  if (given !== undefined) return given
  return processor.name !== '' ? processor.name : fallback
}

/**
 * Gives `processor` a display name (used in error frames, logs and metrics). Returns a new function; the original is not changed.
 * @example
 * ```ts
 * import { named } from 'apipeline-ts'
 *
 * const tts = named('tts', async function* (source) { yield* source })
 * ```
 */
export function named<I extends Frame, O extends Frame>(name: string, processor: ProcessorFn<I, O>): Processor<I, O> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('named(name): name must be a non-empty string')
  assertProcessor('named(processor)', processor)
  const wrapper: ProcessorFn<I, O> = (source, ctx) => processor(source, ctx)
  const info = processorInfo(processor)
  return withInfo(wrapper, { ...info, name })
}

/** Throws a `TypeError` unless `value` is a function (a processor). */
export function assertProcessor(where: string, value: unknown): asserts value is ProcessorFn<any, any> {
  if (typeof value !== 'function') {
    throw new TypeError(`${where} must be a processor function (source, ctx) => AsyncIterable, got ${value === null ? 'null' : typeof value}`)
  }
}
