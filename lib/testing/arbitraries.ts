/**
 * fast-check arbitraries of frames and of well-formed frame streams.
 *
 * Every generated frame is a new object with a fresh `id` (frames are never shared between the positions of a
 * stream), printed in counterexamples as `Frames.format` shows it.
 * @module
 */
import fc from 'fast-check'
import type { Arbitrary } from 'fast-check'
import * as F from '../frames/constructors.js'
import { format } from '../frames/format.js'
import { isBuiltinType } from '../frames/identity.js'
import type { AppFrame, AudioRawFrame, ControlFrame, DataFrame, Frame, ImageRawFrame, StartParams, SystemFrame, TextFrame } from '../frames/types.js'

const PRINT = Symbol.for('fast-check/toStringMethod')

/** Makes fast-check print `frame` as `Frames.format` does (a non-enumerable property: the frame is unchanged). */
function printable<T extends Frame>(frame: T): T {
  Object.defineProperty(frame, PRINT, { value: () => format(frame), enumerable: false, configurable: true })
  return frame
}

/** Options of {@link arbTextFrame}. */
export interface ArbTextOptions {
  /** Longest text, default 12. */
  readonly maxLength?: number
  /** Where the text comes from; default `fc.string({ maxLength })`. */
  readonly text?: Arbitrary<string>
}

function nonNegativeInt(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${where} must be a non-negative integer, got ${String(value)}`)
  }
  return value
}

function assertArbitrary(where: string, value: unknown): asserts value is Arbitrary<unknown> {
  if (value === null || typeof value !== 'object' || typeof (value as { generate?: unknown }).generate !== 'function') {
    throw new TypeError(`${where} must be a fast-check arbitrary`)
  }
}

/**
 * `text` frames with short strings, typed as `TextFrame` (so `f.text` needs no narrowing).
 * @example
 * ```ts
 * fc.assert(fc.property(arbTextFrame(), (f) => f.text.length <= 12))
 * ```
 */
export function arbTextFrame(options: ArbTextOptions = {}): Arbitrary<TextFrame> {
  const maxLength = nonNegativeInt('arbTextFrame({ maxLength })', options.maxLength, 12)
  if (options.text !== undefined) assertArbitrary('arbTextFrame({ text })', options.text)
  const text = options.text ?? fc.string({ maxLength })
  return text.map((t) => printable(F.text(t)))
}

/**
 * `audioRaw` frames: up to 32 bytes, mono or stereo, 8- or 16-bit samples, common sample rates.
 * @example
 * ```ts
 * fc.assert(fc.property(arbAudioRawFrame(), (f) => f.type === 'audioRaw' && f.numFrames >= 0))
 * ```
 */
export function arbAudioRawFrame(): Arbitrary<AudioRawFrame> {
  return fc
    .record({
      audio: fc.uint8Array({ maxLength: 32 }),
      sampleRate: fc.constantFrom(8000, 16000, 24000, 48000),
      numChannels: fc.constantFrom(1, 2),
      sampleWidth: fc.constantFrom(1, 2),
    })
    .map((init) => printable(F.audioRaw(init)))
}

/**
 * `imageRaw` frames: up to 48 bytes, sizes up to 64x64, a few formats and modes (or null).
 * @example
 * ```ts
 * fc.assert(fc.property(arbImageRawFrame(), (f) => f.type === 'imageRaw'))
 * ```
 */
export function arbImageRawFrame(): Arbitrary<ImageRawFrame> {
  return fc
    .record({
      image: fc.uint8Array({ maxLength: 48 }),
      size: fc.tuple(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 64 })),
      format: fc.constantFrom<string | null>(null, 'jpeg', 'png'),
      mode: fc.constantFrom<string | null>(null, 'RGB', 'RGBA', 'L'),
    })
    .map((init) => printable(F.imageRaw(init)))
}

/**
 * Data frames: `text`, `audioRaw` or `imageRaw` (text most often).
 * @example
 * ```ts
 * fc.assert(fc.property(arbDataFrame(), (f) => f.kind === 'data'))
 * ```
 */
export function arbDataFrame(): Arbitrary<DataFrame> {
  return fc.oneof(
    { arbitrary: arbTextFrame(), weight: 3 },
    { arbitrary: arbAudioRawFrame(), weight: 1 },
    { arbitrary: arbImageRawFrame(), weight: 1 },
  )
}

/**
 * Control frames that may appear in the middle of a stream: `sync` and `syncNotify` (never `start` or `end`).
 * @example
 * ```ts
 * fc.assert(fc.property(arbControlFrame(), (f) => f.type === 'sync' || f.type === 'syncNotify'))
 * ```
 */
export function arbControlFrame(): Arbitrary<ControlFrame> {
  return fc.constantFrom<'sync' | 'syncNotify'>('sync', 'syncNotify').map((t) => printable(t === 'sync' ? F.sync() : F.syncNotify()))
}

/**
 * System frames that do not end or interrupt a run: a non-fatal `error`, `metrics` (with fixed values) and
 * `stopInterruption`. Note that a task lets system frames overtake queued frames.
 * @example
 * ```ts
 * fc.assert(fc.property(arbSystemFrame(), (f) => f.kind === 'system'))
 * ```
 */
export function arbSystemFrame(): Arbitrary<SystemFrame> {
  return fc.oneof(
    fc.string({ maxLength: 8 }).map((msg) => printable(F.error(msg.length === 0 ? 'error' : msg))),
    fc.nat({ max: 1000 }).map((ms) => printable(F.metrics({ ttfb: [{ processor: 'test', value: ms / 1000 }] }))),
    fc.constant(null).map(() => printable(F.stopInterruption())),
  )
}

/** A user schema for app frame data: an arbitrary of the data, or a record of arbitraries (one per field). */
export type AppSchema<D> = Arbitrary<D> | { readonly [K in keyof D]: Arbitrary<D[K]> }

/**
 * App frames of your own `type` whose `data` follows `schema`: either an arbitrary of the whole data, or a record
 * with one arbitrary per field.
 *
 * @example
 * ```ts
 * const transcript = arbAppFrame('transcript', { text: fc.string(), final: fc.boolean() })
 * fc.assert(fc.property(transcript, (f) => typeof f.data.final === 'boolean'))
 * ```
 */
export function arbAppFrame<T extends string, D>(type: T, schema: AppSchema<D>): Arbitrary<AppFrame<T, D>> {
  if (typeof type !== 'string' || type.length === 0) throw new TypeError('arbAppFrame(type) must be a non-empty string')
  if (isBuiltinType(type)) throw new TypeError(`arbAppFrame(type): "${type}" is a built-in frame type`)
  if (schema === null || typeof schema !== 'object') {
    throw new TypeError('arbAppFrame(schema) must be a fast-check arbitrary or a record of arbitraries')
  }
  let data: Arbitrary<D>
  if (typeof (schema as { generate?: unknown }).generate === 'function') {
    data = schema as Arbitrary<D>
  } else {
    const fields = schema as Record<string, unknown>
    for (const key of Object.keys(fields)) assertArbitrary(`arbAppFrame(schema).${key}`, fields[key])
    data = fc.record(fields as { [K in keyof D]: Arbitrary<D[K]> }) as unknown as Arbitrary<D>
  }
  return data.map((d) => printable(F.app(type, d)))
}

/** Options of {@link arbFrame}. */
export interface ArbFrameOptions {
  /** Include data frames (`text`, `audioRaw`, `imageRaw`). Default true. */
  readonly data?: boolean
  /** Include `sync` and `syncNotify` frames. Default true. */
  readonly control?: boolean
  /** Include the system frames of {@link arbSystemFrame}. Default false. */
  readonly system?: boolean
  /** App frames to include, e.g. from {@link arbAppFrame}. */
  readonly app?: Arbitrary<AppFrame> | readonly Arbitrary<AppFrame>[]
}

/**
 * One frame that can appear between `start` and `end`: data and `sync`/`syncNotify` frames by default, plus system
 * frames and your app frames when asked. Never `start`, `end`, `cancel`, `stopTask` or an interruption.
 *
 * @example
 * ```ts
 * const frame = arbFrame({ app: arbAppFrame('intent', fc.constantFrom('buy', 'sell')) })
 * fc.assert(fc.property(frame, (f) => f.type !== 'end'))
 * ```
 */
export function arbFrame(options: ArbFrameOptions = {}): Arbitrary<Frame> {
  if (options === null || typeof options !== 'object') throw new TypeError('arbFrame(options) must be an object')
  const parts: { arbitrary: Arbitrary<Frame>; weight: number }[] = []
  if (options.data !== false) parts.push({ arbitrary: arbDataFrame(), weight: 6 })
  if (options.control !== false) parts.push({ arbitrary: arbControlFrame(), weight: 1 })
  if (options.system === true) parts.push({ arbitrary: arbSystemFrame(), weight: 1 })
  if (options.app !== undefined) {
    const apps = Array.isArray(options.app) ? (options.app as readonly Arbitrary<AppFrame>[]) : [options.app as Arbitrary<AppFrame>]
    apps.forEach((a, i) => {
      assertArbitrary(`arbFrame({ app })[${i}]`, a)
      parts.push({ arbitrary: a, weight: 3 })
    })
  }
  if (parts.length === 0) throw new TypeError('arbFrame(options): every kind of frame is switched off')
  return fc.oneof(...parts)
}

/**
 * Start parameters: any combination of the booleans, common sample rates.
 * @example
 * ```ts
 * fc.assert(fc.asyncProperty(arbStartParams(), arbFrames(), async (params, frames) => {
 *   expect((await runProcessor(p, frames, params)).status).toBe('ended')
 * }))
 * ```
 */
export function arbStartParams(): Arbitrary<Partial<StartParams>> {
  return fc.record(
    {
      allowInterruptions: fc.boolean(),
      enableMetrics: fc.boolean(),
      enableUsageMetrics: fc.boolean(),
      reportOnlyInitialTtfb: fc.boolean(),
      audioInSampleRate: fc.constantFrom(8000, 16000, 24000, 48000),
      audioOutSampleRate: fc.constantFrom(8000, 16000, 24000, 48000),
    },
    { requiredKeys: [] },
  )
}

/** Options of {@link arbFrames}. */
export interface ArbFramesOptions {
  /** Put a `start` frame first and an `end` frame last. Default false (what `runProcessor` and `run` expect). */
  readonly withLifecycle?: boolean
  /** The frames between `start` and `end`; default {@link arbFrame}(). Must not produce `start` or `end`. */
  readonly frame?: Arbitrary<Frame>
  /** Fewest frames between `start` and `end`, default 0. */
  readonly minLength?: number
  /** Most frames between `start` and `end`, default 20. */
  readonly maxLength?: number
  /** Parameters of the `start` frame when `withLifecycle`. */
  readonly start?: Partial<StartParams>
}

/**
 * Well-formed frame streams. Without `withLifecycle`, the frames in between only (`runProcessor` and `run` add
 * `start` and `end`); with it, `start` first, `end` last and neither anywhere else.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(arbFrames({ withLifecycle: true }), (frames) =>
 *   frames[0]?.type === 'start' && frames.at(-1)?.type === 'end'))
 * ```
 */
export function arbFrames(options: ArbFramesOptions = {}): Arbitrary<Frame[]> {
  if (options === null || typeof options !== 'object') throw new TypeError('arbFrames(options) must be an object')
  const minLength = nonNegativeInt('arbFrames({ minLength })', options.minLength, 0)
  const maxLength = nonNegativeInt('arbFrames({ maxLength })', options.maxLength, Math.max(20, minLength))
  if (maxLength < minLength) throw new TypeError('arbFrames(): maxLength must be >= minLength')
  if (options.frame !== undefined) assertArbitrary('arbFrames({ frame })', options.frame)
  const frame = options.frame ?? arbFrame()
  const body = fc.array(frame, { minLength, maxLength }).map((frames) => {
    for (const f of frames) {
      if (f.kind === 'control' && (f.type === 'start' || f.type === 'end')) {
        throw new TypeError('arbFrames({ frame }): the frame arbitrary must not produce start or end frames')
      }
    }
    return frames
  })
  if (options.withLifecycle !== true) return body
  const params = options.start ?? {}
  F.start(params) // validates the parameters now rather than during generation
  return body.map((frames) => [printable(F.start(params)), ...frames, printable(F.end())])
}
