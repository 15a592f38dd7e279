/**
 * apipeline: real-time frame pipelines on async iterables.
 *
 * @example
 * ```ts
 * import { Frames, pipeline, map, run } from 'apipeline-ts'
 *
 * const upper = map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
 * for await (const frame of run(pipeline(upper), [Frames.text('hi')])) console.log(Frames.format(frame))
 * ```
 * @module
 */
export * as Frames from './frames/index.js'
export type * from './frames/types.js'
export { defineAppFrame, type AppFrameDefinition } from './frames/define.js'
export { FatalError, CancelledError, InterruptedError, PipelineError, isAbortLike, isFatal } from './errors.js'
export type { Processor, ProcessorFn, PassThrough, InputOf, OutputOf, FrameStep, ProcessorInfo } from './core/processor.js'
export { named, processorInfo, withInfo } from './core/processor.js'
export type { ProcessorContext, ProcessorMetrics, UpstreamHandler, DetachedContextOptions } from './core/context.js'
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
export { warnSlowInterruption, type SlowInterruption, type SlowInterruptionHandler } from './core/slow-interruption.js'
export { unfused } from './core/fuse.js'

// Observing a pipeline
export { describe, graphFromJSON, GRAPH_INPUT, GRAPH_OUTPUT, type PipelineGraph, type GraphNode, type GraphNodeKind, type GraphEdge } from './observe/describe.js'
export { latencyBreakdown, turnMetrics, type LatencyObserver, type LatencyOptions, type LatencyReport, type StageSummary } from './observe/latency.js'
export type { TurnReport, StageLatency, TurnOptions } from './observe/turns.js'
export { percentiles, type Percentiles } from './observe/percentiles.js'
export type { FlowDirection, FramePoint, FrameEvent, StartedEvent, InterruptedEvent, EndedEvent, LifecycleEvent, ObserverEvent, ObservedTask, ObserverSelection, ObserverObject, ObserverFunction, Observer, ObserverStats, ObserverHandle, EventBatch } from './observe/events.js'

// Parallel branches
export { parallel } from './combinators/parallel.js'
export { syncParallel } from './combinators/sync-parallel.js'
export { sequential } from './combinators/sequential.js'
export type { Branch, FanOutOptions, SequentialOptions } from './combinators/options.js'

// Buffered stages, idle watchers, metrics
export { buffer, buffered, type BufferOptions, type DropReason } from './processors/buffered.js'
export { idle, type IdleOptions, type IdleCallback, type IdleResult } from './processors/idle.js'
export { userIdle, type UserIdleOptions } from './processors/user-idle.js'
export { measured, type MeasuredOptions } from './metrics/measured.js'

// Standard processors
export { frameTypeFilter, type FrameTypeFilterOptions } from './processors/filters/frame-type-filter.js'
export { functionFilter, type FunctionFilterOptions, type FramePredicate, type FilterInfo } from './processors/filters/function-filter.js'
export { nullFilter, type NullFilterOptions } from './processors/filters/null-filter.js'
export { LIFECYCLE_TYPES, isLifecycleFrame } from './processors/filters/lifecycle.js'
export { twoWayStep, orderedUpstream, type Direction, type Directions, type TwoWayStep } from './operators/two-way.js'
export { sentenceAggregator, type SentenceAggregatorOptions } from './processors/aggregators/sentence.js'
export { matchEndOfSentence } from './processors/aggregators/end-of-sentence.js'
export { gatedAggregator, type GatedAggregatorOptions } from './processors/aggregators/gated.js'
export { holdFrames } from './processors/aggregators/hold-frames.js'
export { holdLastFrame } from './processors/aggregators/hold-last-frame.js'
export type { HoldOptions } from './processors/aggregators/hold.js'
export type { AtEndPolicy, InterruptionPolicy } from './processors/aggregators/held.js'
export { EventNotifier } from './notifiers/event-notifier.js'
export type { Notifier } from './notifiers/notifier.js'
export { notifyOn, type NotifyOnOptions } from './notifiers/notify-on.js'
export { textTransformer, type TextTransform, type TextTransformerOptions, type TransformInfo } from './processors/text-transformer.js'
export { frameLogger, type FrameLoggerOptions, type FrameLogSink } from './processors/frame-logger.js'

// Input and output adapters
export { fromPushable, type PushableLike } from './adapters/from-pushable.js'
export { fromCallback, type FrameSink, type FromCallbackOptions, type Unsubscribe } from './adapters/from-callback.js'
export { fromEventEmitter, type EmitterLike, type FromEventEmitterOptions } from './adapters/from-event-emitter.js'
export { fromReadableStream, type FromReadableStreamOptions } from './adapters/from-readable-stream.js'
export { fromNodeReadable, type FromNodeReadableOptions, type NodeReadableLike } from './adapters/from-node-readable.js'
export type { ChunkDecoder } from './adapters/pull-source.js'
export { BufferOverflowError, type OverflowPolicy } from './adapters/overflow.js'
export { toCallback, type FrameCallback, type DeliveryInfo } from './adapters/to-callback.js'
export { toArray } from './adapters/to-array.js'
export { toWritableStream, type ToWritableStreamOptions } from './adapters/to-writable-stream.js'
export type { SinkOptions } from './adapters/sink-options.js'
export { toWritable } from './adapters/to-writable.js'
export { toNodeWritable, type NodeWritableLike } from './adapters/to-node-writable.js'
export type { StreamSinkOptions } from './adapters/stream-sink.js'

// Wire formats
export { FrameDecodeError, FrameEncodeError, protobufSerializer, jsonSerializer, serializeFrames, deserializeFrames, decodeEither, encodeEither } from './wire/index.js'
export type { FrameSerializer, WireInput, ProtobufSerializerOptions, SerializeFramesOptions, DeserializeFramesOptions, WireErrorPolicy } from './wire/index.js'

// Interruptions: epochs, delivery marks, uninterruptible frames
export { uninterruptible, isUninterruptible, isInterruptible } from './interruption/uninterruptible.js'
export { interruptionReport, isInterruptionReport, type InterruptionReport, type InterruptionReportFrame, type ReportedFrame } from './interruption/report.js'
export { ledgerOf, DeliveryLedger } from './interruption/ledger.js'
export { currentEpoch, stampEpoch } from './interruption/epoch-stamp.js'
export { deliveryMarker, type DeliveryMarker } from './interruption/delivery.js'
export { playback, type Playback, type PlaybackOptions } from './interruption/playback.js'
export { interruptionPolicy, DEFAULT_BACKCHANNELS, type InterruptionPolicyOptions } from './interruption/policy.js'
