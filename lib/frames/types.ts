/**
 * The frame types: one discriminated union of plain readonly objects.
 *
 * Every frame carries `kind` (its category), `type` (the discriminant), a process-wide unique
 * increasing `id` and a `name` of the form `"<TypeName>#<n>"` with a per-type counter.
 *
 * `frame.type === 'text'` narrows a {@link Frame} to a `TextFrame`; with your app frames declared
 * (`Frame<Transcript | Intent>`), a `switch` on `type` is exhaustive.
 *
 * @example
 * ```ts
 * import { Frames, type AppFrame, type Frame } from 'apipeline-ts'
 *
 * function describe(frame: Frame): string {
 *   switch (frame.type) {
 *     case 'text': return frame.text
 *     case 'audioRaw': return `${frame.numFrames} audio frames`
 *     default: return frame.name
 *   }
 * }
 * describe(Frames.text('hi')) // 'hi'
 *
 * type Transcript = AppFrame<'transcript', { text: string }>
 * function words(frame: Frame<Transcript>): number {
 *   if (frame.type === 'transcript') return frame.data.text.split(' ').length
 *   return frame.type === 'text' ? frame.text.split(' ').length : 0
 * }
 * ```
 * @module
 */

/** The four frame categories. System frames are out-of-band, control and data frames are ordered. */
export type FrameKind = 'system' | 'control' | 'data' | 'app'

/** Fields every frame has. */
export interface FrameHeader<K extends FrameKind, T extends string> {
  // `type` is declared before `kind` on purpose: TypeScript keys a large union on the first literal-typed property
  // of its members, and narrowing on `frame.type` must find the built-in frame directly (see `Frame`).
  /** The discriminant of the union. */
  readonly type: T
  /** The category: decides ordering and how library processors treat the frame. */
  readonly kind: K
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
 * A user-defined frame: its own `type` and a `data` payload. Build them with `Frames.app` (or a constructor from
 * `defineAppFrame`), and list them in `Frame<...>` to get narrowing and exhaustive `switch`es.
 *
 * Declare app frame types with this alias (`type Transcript = AppFrame<...>`), not as interfaces extending it: an
 * alias is what lets your frames flow where the library accepts any frame ({@link UnknownAppFrame}).
 *
 * @example
 * ```ts
 * import { Frames, type AppFrame } from 'apipeline-ts'
 *
 * type Transcript = AppFrame<'transcript', { text: string; final: boolean }>
 * const t: Transcript = Frames.app('transcript', { text: 'hi', final: true })
 * ```
 */
export type AppFrame<T extends string = string, D = unknown> = {
  /** Your frame type; never one of the built-in type names. */
  readonly type: T
  readonly kind: 'app'
  /** Process-wide unique, increasing; kept across the wire formats. */
  readonly id: number
  /** `"<type>#<n>"`, `n` counted per type from 0. */
  readonly name: string
  /** The payload. */
  readonly data: D
  /** `true`: no interruption drops this frame (see `uninterruptible()`); absent on ordinary frames. */
  readonly uninterruptible?: boolean
}

/**
 * An app frame the types know nothing about: what the default {@link Frame} holds besides the built-in frames.
 *
 * Every {@link AppFrame} is assignable to it, so any frame can go where a `Frame` is expected. Its `type` is a
 * `string`, but it is not a discriminant: it is declared through index signatures, which TypeScript leaves out when
 * it keys a union on `type`. That is why `frame.type === 'text'` narrows a `Frame` straight to `TextFrame` (a plain
 * `type: string` member would stay in every branch), while `frame.kind === 'app'` still narrows to this type.
 *
 * @example
 * ```ts
 * import type { Frame } from 'apipeline-ts'
 *
 * function appType(frame: Frame): string | undefined {
 *   return frame.kind === 'app' ? frame.type : undefined
 * }
 * ```
 */
export type UnknownAppFrame = {
  readonly [type: `type${string}`]: string
  readonly [kind: `kind${string}`]: 'app'
  /** Process-wide unique, increasing. */
  readonly id: number
  /** `"<type>#<n>"`. */
  readonly name: string
  /** The payload: unknown until you check the type. */
  readonly data: unknown
  /** `true`: no interruption drops this frame (see `uninterruptible()`); absent on ordinary frames. */
  readonly uninterruptible?: boolean
}

/** What a `Frame<A>` accepts as `A`: declared app frames, or {@link UnknownAppFrame}. */
export type AppFrameLike = AppFrame<string, unknown> | UnknownAppFrame

/** Every frame defined by the library. */
export type BuiltinFrame = SystemFrame | ControlFrame | DataFrame

/**
 * A frame: the built-in frames plus app frames.
 *
 * - `Frame` (the default) is open: it accepts every frame, app frames of any type included. `frame.type === 'text'`
 *   narrows it to `TextFrame`; app frames are reached with `frame.kind === 'app'` and have `data: unknown`.
 * - `Frame<Transcript | Intent>` is closed over your app frames: `frame.type === 'transcript'` narrows to
 *   `Transcript`, and a `switch` on `type` is exhaustive.
 *
 * @example
 * ```ts
 * import { Frames, type AppFrame, type Frame } from 'apipeline-ts'
 *
 * type Intent = AppFrame<'intent', { name: 'buy' | 'sell' }>
 * type BotFrame = Frame<Intent>
 *
 * function label(frame: BotFrame): string {
 *   if (frame.type === 'intent') return frame.data.name
 *   if (frame.type === 'text') return frame.text
 *   return frame.name
 * }
 * label(Frames.app<Intent>('intent', { name: 'buy' })) // 'buy'
 * ```
 */
export type Frame<A extends AppFrameLike = UnknownAppFrame> = BuiltinFrame | A

/** The `type` strings of the built-in frames. */
export type BuiltinFrameType = BuiltinFrame['type']

/** The built-in frame whose `type` is `T`. */
export type FrameOfType<T extends BuiltinFrameType> = Extract<BuiltinFrame, { type: T }>
