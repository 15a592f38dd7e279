/**
 * apipeline: real-time frame pipelines on async iterables.
 *
 * @example
 * ```ts
 * import { Frames, pipeline, map, run } from 'apipeline'
 *
 * const upper = map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
 * for await (const frame of run(pipeline(upper), [Frames.text('hi')])) console.log(Frames.format(frame))
 * ```
 * @module
 */
export * as Frames from './frames/index.js'
export type * from './frames/types.js'
export { FatalError, CancelledError, InterruptedError, PipelineError, isAbortLike, isFatal } from './errors.js'
export type { Processor, FrameStep, ProcessorInfo } from './core/processor.js'
export { named, processorInfo, withInfo } from './core/processor.js'
export type { ProcessorContext, ProcessorMetrics, UpstreamHandler } from './core/context.js'
export { detachedContext } from './core/context.js'
export { pipeline } from './core/pipeline.js'
export { map } from './operators/map.js'
export { filter } from './operators/filter.js'
export { tap } from './operators/tap.js'
export { flatMap } from './operators/flat-map.js'
export { mapConcurrent, type MapConcurrentOptions, type MapConcurrentResult } from './operators/map-concurrent.js'
export { run, type RunHandle, type RunOptions } from './core/run.js'
export { PipelineTask, type PipelineParams, type TaskResult, type TaskStatus } from './core/task.js'
export { PipelineRunner, type PipelineRunnerOptions } from './core/runner.js'
