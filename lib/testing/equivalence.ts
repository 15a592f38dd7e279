/**
 * Observational equivalence of processors: run both as tasks over the same input and compare what comes out.
 * @module
 */
import fc from 'fast-check'
import type { Arbitrary } from 'fast-check'
import type { ProcessorFn } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { arbFrames } from './arbitraries.js'
import { describeProcessor, failureText } from './laws.js'
import { describeDifference, type NormalizeOptions } from './normalize.js'
import { runProcessor, type RunProcessorOptions, type RunProcessorResult, type TestInput } from './run-processor.js'

/** Options of {@link assertSameRun} and {@link checkEquivalent}. */
export interface EquivalenceOptions extends NormalizeOptions {
  /** Options of both runs (start parameters, fake timers, …). */
  readonly run?: RunProcessorOptions
  /** Also compare the frames that reach the top. Default true. */
  readonly upstream?: boolean
  /**
   * Frames to compare, e.g. `withoutLifecycle` to compare payloads only, or a function that sorts frames of
   * branches that may interleave. Default: the frames as they came.
   */
  readonly view?: (frames: Frame[]) => Frame[]
}

/**
 * Runs `p` and `q` over `framesIn` (with {@link runProcessor}) and rejects with the first difference when their
 * statuses, downstream frames or upstream frames differ (frames compared by type and payload; error frames without
 * the `processor` field unless `ignore` says otherwise). Resolves with both results.
 *
 * @example
 * ```ts
 * const [a, b, c] = [llm, tts, bot]
 * await assertSameRun(pipeline(a, pipeline(b, c)), pipeline(pipeline(a, b), c), [Frames.text('x')])
 * ```
 */
export async function assertSameRun(
  p: ProcessorFn<any, any>,
  q: ProcessorFn<any, any>,
  framesIn: Iterable<TestInput>,
  options: EquivalenceOptions = {},
): Promise<[RunProcessorResult, RunProcessorResult]> {
  if (options === null || typeof options !== 'object') throw new TypeError('assertSameRun(options) must be an object')
  const input = [...framesIn]
  const a = await runProcessor(p, input, options.run)
  const b = await runProcessor(q, input, options.run)
  const normalize: NormalizeOptions = { ignore: options.ignore ?? ['processor'] }
  const view = options.view ?? ((frames: Frame[]) => frames)
  const which = (): string => `(${describeProcessor(p)} vs ${describeProcessor(q)})`
  if (a.status !== b.status) throw new Error(`statuses differ: ${a.status} vs ${b.status} ${which()}`)
  if (a.timedOut || b.timedOut) throw new Error(`a run timed out ${which()}`)
  const down = describeDifference(view(a.downstream), view(b.downstream), normalize)
  if (down !== undefined) throw new Error(`downstream frames differ ${down} ${which()}`)
  if (options.upstream !== false) {
    const up = describeDifference(view(a.upstream), view(b.upstream), normalize)
    if (up !== undefined) throw new Error(`upstream frames differ ${up} ${which()}`)
  }
  return [a, b]
}

/** Options of {@link checkEquivalent}. */
export interface CheckEquivalentOptions extends EquivalenceOptions {
  /** Generated cases. Default 100. */
  readonly numRuns?: number
  /** fast-check seed, to replay a failure. */
  readonly seed?: number
  /** The input frames; default `arbFrames()`. */
  readonly frames?: Arbitrary<Frame[]>
}

/**
 * Checks that `p` and `q` behave the same on every generated input (see {@link assertSameRun}); rejects with
 * fast-check's counterexample otherwise. Use it to test a refactoring, or an algebraic law of a combinator.
 *
 * @example
 * ```ts
 * await checkEquivalent(pipeline(upper), upper, { numRuns: 50 })
 * ```
 */
export async function checkEquivalent(
  p: ProcessorFn<any, any>,
  q: ProcessorFn<any, any>,
  options: CheckEquivalentOptions = {},
): Promise<void> {
  if (typeof p !== 'function' || typeof q !== 'function') throw new TypeError('checkEquivalent(p, q) needs two processors')
  const frames = options.frames ?? arbFrames()
  const params: fc.Parameters<[Frame[]]> = { numRuns: options.numRuns ?? 100 }
  if (options.seed !== undefined) params.seed = options.seed
  try {
    await fc.assert(
      fc.asyncProperty(frames, async (input) => {
        await assertSameRun(p, q, input, options)
      }),
      params,
    )
  } catch (err) {
    throw new Error(`the processors ${describeProcessor(p)} and ${describeProcessor(q)} behave differently: ${failureText(err)}`, { cause: err })
  }
}
