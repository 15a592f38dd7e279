/**
 * `apipeline/testing`: tools to property-test processors and combinators — fast-check arbitraries of frames,
 * streams and processors, `runProcessor` (run a processor as a task and collect both directions), frame comparison,
 * equivalence checks and the lifecycle laws. Needs `fast-check` (a peer dependency of this entry point).
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { Frames } from 'apipeline-ts'
 * import { arbFrames, checkLifecycleLaws, runProcessor, withoutLifecycle } from 'apipeline-ts/testing'
 *
 * await checkLifecycleLaws(myProcessor, { numRuns: 50 })
 * await fc.assert(fc.asyncProperty(arbFrames(), async (frames) => {
 *   const { downstream, status } = await runProcessor(myProcessor, frames)
 *   return status === 'ended' && withoutLifecycle(downstream).length <= frames.length
 * }))
 * ```
 * @module
 */
export {
  arbAppFrame,
  arbAudioRawFrame,
  arbControlFrame,
  arbDataFrame,
  arbFrame,
  arbFrames,
  arbImageRawFrame,
  arbStartParams,
  arbSystemFrame,
  arbTextFrame,
  type AppSchema,
  type ArbFrameOptions,
  type ArbFramesOptions,
  type ArbTextOptions,
} from './arbitraries.js'
export { ARB_PROCESSOR_KINDS, arbProcessor, type ArbProcessorKind, type ArbProcessorOptions } from './arb-processor.js'
export {
  describeDifference,
  frameKey,
  normalizeFrame,
  sameFrames,
  withoutLifecycle,
  type NormalizedFrame,
  type NormalizeOptions,
} from './normalize.js'
export {
  interrupt,
  isInterrupt,
  isSleep,
  runProcessor,
  sleep,
  type FakeClock,
  type InterruptStep,
  type RunProcessorOptions,
  type RunProcessorResult,
  type SleepStep,
  type TestInput,
} from './run-processor.js'
export {
  assertSameRun,
  checkEquivalent,
  type CheckEquivalentOptions,
  type EquivalenceOptions,
} from './equivalence.js'
export {
  checkLaw,
  checkLifecycleLaws,
  describeProcessor,
  failureText,
  LAWS,
  lawProperty,
  type LawName,
  type LawOptions,
  type LifecycleLawOptions,
} from './laws.js'
