/**
 * The frame types: one discriminated union of plain readonly objects.
 *
 * Every frame carries `kind` (its category), `type` (the discriminant), a process-wide unique
 * increasing `id` and a `name` of the form `"<TypeName>#<n>"` with a per-type counter.
 *
 * Narrow with `frame.kind` first, then `frame.type`: once `kind` is not `'app'`, a `switch` on `type`
 * is exhaustive over the built-in frames.
 *
 * @example
 * ```ts
 * import { Frames, type Frame } from 'apipeline-ts'
 *
 * function describe(frame: Frame): string {
 *   if (frame.kind === 'app') return `app frame ${frame.type}`
 *   switch (frame.type) {
 *     case 'text': return frame.text
 *     case 'audioRaw': return `${frame.numFrames} audio frames`
 *     default: return frame.name
 *   }
 * }
 * describe(Frames.text('hi')) // 'hi'
 * ```
 * @module
 */

/** The four frame categories. System frames are out-of-band, control and data frames are ordered. */
export type FrameKind = 'system' | 'control' | 'data' | 'app'

/** Fields every frame has. */
export interface FrameHeader<K extends FrameKind, T extends string> {
  /** The category: decides ordering and how library processors treat the frame. */
  readonly kind: K
  /** The discriminant of the union. */
  readonly type: T
  /** Process-wide unique, increasing; kept across the wire formats. */
  readonly id: number
  /** `"<TypeName>#<n>"`, `n` counted per type from 0, e.g. `TextFrame#0`. */
  readonly name: string
  /** `true`: no interruption drops this frame (see `uninterruptible()`); absent on ordinary frames. */
  readonly uninterruptible?: boolean
}

/** One measurement of a metrics frame: which processor, and the value (seconds for times). */
export interface MetricValue {
  readonly processor: string
  readonly value: number
}

// ---------------------------------------------------------------- system frames

/** The pipeline must stop right away. */
export interface CancelFrame extends FrameHeader<'system', 'cancel'> {}

/** Something failed; travels upstream to the task. `fatal` errors end the task as `'errored'`. */
export interface ErrorFrame extends FrameHeader<'system', 'error'> {
  readonly error: string
  readonly fatal: boolean
  /** Name of the processor the error came from, when known. */
  readonly processor?: string
  /** The thrown value, when the frame was made from an exception (not serialized). */
  readonly cause?: unknown
}

/** The task should stop without draining. */
export interface StopTaskFrame extends FrameHeader<'system', 'stopTask'> {}

/** Pushed upstream to ask the task for an interruption. */
export interface InterruptionTaskFrame extends FrameHeader<'system', 'interruptionTask'> {}

/** The user started speaking: buffered stages drop queued data. */
export interface StartInterruptionFrame extends FrameHeader<'system', 'startInterruption'> {}

/** The user stopped speaking. */
export interface StopInterruptionFrame extends FrameHeader<'system', 'stopInterruption'> {}

/** A generic interruption (the Python 0.2.12 `InterruptionFrame`); treated like `startInterruption`. */
export interface InterruptionFrame extends FrameHeader<'system', 'interruption'> {}

/** Time to first byte, processing time and usage figures reported by processors. */
export interface MetricsFrame extends FrameHeader<'system', 'metrics'> {
  readonly ttfb: readonly MetricValue[]
  readonly processing: readonly MetricValue[]
  readonly tokens: readonly MetricValue[]
  readonly characters: readonly MetricValue[]
}

/** Every system frame. */
export type SystemFrame =
  | CancelFrame
  | ErrorFrame
  | StopTaskFrame
  | InterruptionTaskFrame
  | StartInterruptionFrame
  | StopInterruptionFrame
  | InterruptionFrame
  | MetricsFrame

// ---------------------------------------------------------------- control frames

/** Parameters carried by the `start` frame. */
export interface StartParams {
  readonly allowInterruptions: boolean
  readonly enableMetrics: boolean
  readonly enableUsageMetrics: boolean
  readonly reportOnlyInitialTtfb: boolean
  readonly audioInSampleRate: number
  readonly audioOutSampleRate: number
}

/** The first frame every processor sees. */
export interface StartFrame extends FrameHeader<'control', 'start'>, StartParams {}

/** Graceful end: drains everything and is the last frame out. */
export interface EndFrame extends FrameHeader<'control', 'end'> {}

/** A barrier marker. */
export interface SyncFrame extends FrameHeader<'control', 'sync'> {}

/** Used to trigger notifiers (e.g. a hold aggregator's release). */
export interface SyncNotifyFrame extends FrameHeader<'control', 'syncNotify'> {}

/** Every control frame. */
export type ControlFrame = StartFrame | EndFrame | SyncFrame | SyncNotifyFrame

// ---------------------------------------------------------------- data frames

/** A chunk of text. */
export interface TextFrame extends FrameHeader<'data', 'text'> {
  readonly text: string
}

/** Raw PCM audio. `numFrames` = `floor(audio.length / (numChannels * sampleWidth))`. */
export interface AudioRawFrame extends FrameHeader<'data', 'audioRaw'> {
  readonly audio: Uint8Array
  readonly sampleRate: number
  readonly numChannels: number
  readonly sampleWidth: number
  readonly numFrames: number
}

/** A raw image; `size` is `[width, height]`. */
export interface ImageRawFrame extends FrameHeader<'data', 'imageRaw'> {
  readonly image: Uint8Array
  readonly size: readonly [width: number, height: number]
  readonly format: string | null
  readonly mode: string | null
}

/** Every data frame. */
export type DataFrame = TextFrame | AudioRawFrame | ImageRawFrame

// ---------------------------------------------------------------- app frames

/**
 * A user-defined frame: its own `type` and a `data` payload.
 *
 * @example
 * ```ts
 * type Transcript = AppFrame<'transcript', { text: string; final: boolean }>
 * const t: Transcript = Frames.app('transcript', { text: 'hi', final: true })
 * ```
 */
export interface AppFrame<T extends string = string, D = unknown> extends FrameHeader<'app', T> {
  readonly data: D
}

/** Every frame defined by the library. */
export type BuiltinFrame = SystemFrame | ControlFrame | DataFrame

/**
 * A frame: the built-in frames plus app frames. Pass your own app frame types to type them precisely:
 * `Frame<Transcript | Intent>`.
 */
export type Frame<A extends AppFrame = AppFrame> = BuiltinFrame | A

/** The `type` strings of the built-in frames. */
export type BuiltinFrameType = BuiltinFrame['type']

/** The built-in frame whose `type` is `T`. */
export type FrameOfType<T extends BuiltinFrameType> = Extract<BuiltinFrame, { type: T }>
