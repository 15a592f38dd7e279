/**
 * The processor type and the metadata the library attaches to processor functions.
 * @module
 */
import type { Frame } from '../frames/types.js'
import type { ProcessorContext } from './context.js'

/**
 * A processor: a pure transform of a frame stream. Any `async function*` over frames, or any it-* style
 * `(source) => AsyncIterable` transform, is a processor. Forward frames you do not handle.
 *
 * @example
 * ```ts
 * import { Frames, type Processor } from 'apipeline-ts'
 *
 * const upper: Processor = async function* upper(source) {
 *   for await (const frame of source) {
 *     yield frame.type === 'text' ? Frames.text(frame.text.toUpperCase()) : frame
 *   }
 * }
 * ```
 */
export type Processor<I extends Frame = Frame, O extends Frame = Frame> = (
  source: AsyncIterable<I>,
  ctx: ProcessorContext,
) => AsyncIterable<O>

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
  readonly stages?: readonly Processor<any, any>[]
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

/**
 * The metadata of `processor`, if any.
 * @example
 * ```ts
 * processorInfo(map((f) => f))?.step !== undefined // true: fusable
 * ```
 */
export function processorInfo(processor: Processor<any, any>): ProcessorInfo | undefined {
  return (processor as unknown as { [INFO]?: ProcessorInfo })[INFO]
}

/**
 * Attaches metadata to `processor` (merged with what it had) and returns it.
 * @example
 * ```ts
 * const llm = withInfo(llmUsingCtxMetrics, { metrics: true }) // listed in the initial metrics frame
 * ```
 */
export function withInfo<P extends Processor<any, any>>(processor: P, info: ProcessorInfo): P {
  const previous = processorInfo(processor)
  Object.defineProperty(processor, INFO, { value: { ...previous, ...info }, configurable: true, enumerable: false })
  return processor
}

/** The display name of a processor: its given name, else the function's name, else `fallback`. */
export function processorName(processor: Processor<any, any>, fallback: string): string {
  const given = processorInfo(processor)?.name
  if (given !== undefined) return given
  return processor.name !== '' ? processor.name : fallback
}

/**
 * Gives `processor` a display name (used in error frames, logs and metrics). Returns a new function; the original is not changed.
 * @example
 * ```ts
 * const tts = named('tts', async function* (source) { yield* source })
 * ```
 */
export function named<I extends Frame, O extends Frame>(name: string, processor: Processor<I, O>): Processor<I, O> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('named(name): name must be a non-empty string')
  assertProcessor('named(processor)', processor)
  const wrapper: Processor<I, O> = (source, ctx) => processor(source, ctx)
  const info = processorInfo(processor)
  return withInfo(wrapper, { ...info, name })
}

/** Throws a `TypeError` unless `value` is a function (a processor). */
export function assertProcessor(where: string, value: unknown): asserts value is Processor<any, any> {
  if (typeof value !== 'function') {
    throw new TypeError(`${where} must be a processor function (source, ctx) => AsyncIterable, got ${value === null ? 'null' : typeof value}`)
  }
}
