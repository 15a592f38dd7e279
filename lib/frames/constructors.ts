/**
 * Frame constructors. Each returns a new plain object with a fresh `id` and `name`; bad arguments
 * throw a `TypeError` that names the field. Integers must be safe integers (ids, image sizes) and sample rates,
 * channel counts and sample widths fit the protobuf `uint32` fields (at most 2^32 - 1), so that every frame a
 * constructor makes can be written by both wire formats.
 * @module
 */
import { isBuiltinType, nextFrameId, nextFrameName, TYPE_NAMES } from './identity.js'
import type {
  AppFrame,
  AudioRawFrame,
  CancelFrame,
  EndFrame,
  ErrorFrame,
  Frame,
  ImageRawFrame,
  InterruptionFrame,
  InterruptionTaskFrame,
  MetricsFrame,
  MetricValue,
  StartFrame,
  StartInterruptionFrame,
  StartParams,
  StopInterruptionFrame,
  StopTaskFrame,
  SyncFrame,
  SyncNotifyFrame,
  TextFrame,
} from './types.js'
import {
  describe,
  requireBoolean,
  requireBytes,
  requireFinite,
  requireInteger,
  requireOptions,
  requireString,
  requireStringOrNull,
  UINT32_MAX,
} from './validate.js'

/**
 * Defaults of the `start` frame (the Python 0.2.12 defaults).
 * @example
 * ```ts
 * Frames.DEFAULT_START_PARAMS.audioOutSampleRate // 24000
 * ```
 */
export const DEFAULT_START_PARAMS: StartParams = Object.freeze({
  allowInterruptions: false,
  enableMetrics: false,
  enableUsageMetrics: false,
  reportOnlyInitialTtfb: false,
  audioInSampleRate: 16000,
  audioOutSampleRate: 24000,
})

/**
 * `start`: the first frame of every run. Missing parameters take {@link DEFAULT_START_PARAMS}.
 * @example
 * ```ts
 * Frames.start({ allowInterruptions: true }).audioOutSampleRate // 24000
 * ```
 */
export function start(params: Partial<StartParams> = {}): StartFrame {
  const p = requireOptions('Frames.start(params)', params)
  const pick = <K extends keyof StartParams>(key: K): unknown => (p[key] === undefined ? DEFAULT_START_PARAMS[key] : p[key])
  return {
    kind: 'control',
    type: 'start',
    id: nextFrameId(),
    name: nextFrameName(TYPE_NAMES.start),
    allowInterruptions: requireBoolean('start.allowInterruptions', pick('allowInterruptions')),
    enableMetrics: requireBoolean('start.enableMetrics', pick('enableMetrics')),
    enableUsageMetrics: requireBoolean('start.enableUsageMetrics', pick('enableUsageMetrics')),
    reportOnlyInitialTtfb: requireBoolean('start.reportOnlyInitialTtfb', pick('reportOnlyInitialTtfb')),
    audioInSampleRate: requireInteger('start.audioInSampleRate', pick('audioInSampleRate'), 1, UINT32_MAX),
    audioOutSampleRate: requireInteger('start.audioOutSampleRate', pick('audioOutSampleRate'), 1, UINT32_MAX),
  }
}

/**
 * `end`: graceful end; drains every stage and is the last frame out.
 * @example
 * ```ts
 * task.queueFrame(Frames.end()) // the task ends once everything before it has drained
 * ```
 */
export function end(): EndFrame {
  return { kind: 'control', type: 'end', id: nextFrameId(), name: nextFrameName(TYPE_NAMES.end) }
}

/**
 * `sync`: a barrier marker.
 * @example
 * ```ts
 * Frames.sync().kind // 'control'
 * ```
 */
export function sync(): SyncFrame {
  return { kind: 'control', type: 'sync', id: nextFrameId(), name: nextFrameName(TYPE_NAMES.sync) }
}

/**
 * `syncNotify`: triggers notifiers.
 * @example
 * ```ts
 * const fire = notifyOn(notifier, Frames.is('syncNotify'))
 * ```
 */
export function syncNotify(): SyncNotifyFrame {
  return { kind: 'control', type: 'syncNotify', id: nextFrameId(), name: nextFrameName(TYPE_NAMES.syncNotify) }
}

/**
 * `cancel`: stop right away.
 * @example
 * ```ts
 * ctx.pushUpstream(Frames.cancel()) // the task cancels
 * ```
 */
export function cancel(): CancelFrame {
  return { kind: 'system', type: 'cancel', id: nextFrameId(), name: nextFrameName(TYPE_NAMES.cancel) }
}

/** Options of {@link error}. */
export interface ErrorOptions {
  /** A fatal error ends the task as `'errored'`. Default false. */
  readonly fatal?: boolean
  /** The processor the error came from. */
  readonly processor?: string
  /** The thrown value (kept in memory, not serialized). */
  readonly cause?: unknown
}

/**
 * `error`: something failed. Accepts a message or an `Error` (its message is used and it is kept as `cause`).
 * @example
 * ```ts
 * Frames.error('model unavailable', { fatal: true }).fatal // true
 * ```
 */
export function error(err: string | Error, options: ErrorOptions = {}): ErrorFrame {
  const o = requireOptions('Frames.error(options)', options)
  let message: string
  let cause: unknown = o['cause']
  if (err instanceof Error) {
    message = err.message
    if (cause === undefined) cause = err
  } else {
    message = requireString('Frames.error(error)', err)
  }
  const fatal = o['fatal'] === undefined ? false : requireBoolean('error.fatal', o['fatal'])
  const frame: { -readonly [K in keyof ErrorFrame]: ErrorFrame[K] } = {
    kind: 'system',
    type: 'error',
    id: nextFrameId(),
    name: nextFrameName(TYPE_NAMES.error),
    error: message,
    fatal,
  }
  if (o['processor'] !== undefined) frame.processor = requireString('error.processor', o['processor'])
  if (cause !== undefined) frame.cause = cause
  return frame
}

/**
 * `stopTask`: the task stops without draining.
 * @example
 * ```ts
 * ctx.pushUpstream(Frames.stopTask()) // the task stops without draining
 * ```
 */
export function stopTask(): StopTaskFrame {
  return { kind: 'system', type: 'stopTask', id: nextFrameId(), name: nextFrameName(TYPE_NAMES.stopTask) }
}

/**
 * `interruptionTask`: pushed upstream to ask the task for an interruption.
 * @example
 * ```ts
 * ctx.pushUpstream(Frames.interruptionTask()) // the task interrupts (with allowInterruptions)
 * ```
 */
export function interruptionTask(): InterruptionTaskFrame {
  return {
    kind: 'system',
    type: 'interruptionTask',
    id: nextFrameId(),
    name: nextFrameName(TYPE_NAMES.interruptionTask),
  }
}

/**
 * `startInterruption`: the user started speaking.
 * @example
 * ```ts
 * if (Frames.is('startInterruption')(frame)) stopSpeaking()
 * ```
 */
export function startInterruption(): StartInterruptionFrame {
  return {
    kind: 'system',
    type: 'startInterruption',
    id: nextFrameId(),
    name: nextFrameName(TYPE_NAMES.startInterruption),
  }
}

/**
 * `stopInterruption`: the user stopped speaking.
 * @example
 * ```ts
 * await task.queueFrame(Frames.stopInterruption()) // the user stopped speaking
 * ```
 */
export function stopInterruption(): StopInterruptionFrame {
  return {
    kind: 'system',
    type: 'stopInterruption',
    id: nextFrameId(),
    name: nextFrameName(TYPE_NAMES.stopInterruption),
  }
}

/**
 * `interruption`: the Python 0.2.12 generic interruption frame, treated like `startInterruption`.
 * @example
 * ```ts
 * Frames.isInterruption(Frames.interruption()) // true
 * ```
 */
export function interruption(): InterruptionFrame {
  return { kind: 'system', type: 'interruption', id: nextFrameId(), name: nextFrameName(TYPE_NAMES.interruption) }
}

/** Fields of {@link metrics}; each list defaults to empty. */
export interface MetricsInit {
  readonly ttfb?: readonly MetricValue[]
  readonly processing?: readonly MetricValue[]
  readonly tokens?: readonly MetricValue[]
  readonly characters?: readonly MetricValue[]
}

function metricList(where: string, value: unknown): readonly MetricValue[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new TypeError(`${where} must be an array, got ${describe(value)}`)
  return value.map((entry: unknown, i) => {
    const e = requireOptions(`${where}[${i}]`, entry)
    return {
      processor: requireString(`${where}[${i}].processor`, e['processor']),
      value: requireFinite(`${where}[${i}].value`, e['value']),
    }
  })
}

/**
 * `metrics`: measurements; times are in seconds.
 * @example
 * ```ts
 * Frames.metrics({ ttfb: [{ processor: 'llm', value: 0.21 }] })
 * ```
 */
export function metrics(init: MetricsInit = {}): MetricsFrame {
  const o = requireOptions('Frames.metrics(init)', init)
  return {
    kind: 'system',
    type: 'metrics',
    id: nextFrameId(),
    name: nextFrameName(TYPE_NAMES.metrics),
    ttfb: metricList('metrics.ttfb', o['ttfb']),
    processing: metricList('metrics.processing', o['processing']),
    tokens: metricList('metrics.tokens', o['tokens']),
    characters: metricList('metrics.characters', o['characters']),
  }
}

/**
 * `text`: a chunk of text.
 * @example
 * ```ts
 * Frames.text('hello').name // 'TextFrame#0' for the first one
 * ```
 */
export function text(value: string): TextFrame {
  if (typeof value !== 'string') requireString('Frames.text(text)', value)
  return { kind: 'data', type: 'text', id: nextFrameId(), name: nextFrameName(TYPE_NAMES.text), text: value }
}

/** Fields of {@link audioRaw}. */
export interface AudioRawInit {
  /** PCM bytes (a Node Buffer works; it is not copied). */
  readonly audio: Uint8Array
  /** Samples per second, default 16000. */
  readonly sampleRate?: number
  /** Default 1. */
  readonly numChannels?: number
  /** Bytes per sample, default 2. */
  readonly sampleWidth?: number
}

/**
 * `audioRaw`: raw PCM audio. The bytes are not copied.
 * @example
 * ```ts
 * Frames.audioRaw({ audio: new Uint8Array(640) }).numFrames // 320
 * ```
 */
export function audioRaw(init: AudioRawInit): AudioRawFrame {
  const o = requireOptions('Frames.audioRaw(init)', init)
  const audio = requireBytes('audioRaw.audio', o['audio'])
  const sampleRate = o['sampleRate'] === undefined ? 16000 : requireInteger('audioRaw.sampleRate', o['sampleRate'], 1, UINT32_MAX)
  const numChannels = o['numChannels'] === undefined ? 1 : requireInteger('audioRaw.numChannels', o['numChannels'], 1, UINT32_MAX)
  const sampleWidth = o['sampleWidth'] === undefined ? 2 : requireInteger('audioRaw.sampleWidth', o['sampleWidth'], 1, UINT32_MAX)
  return {
    kind: 'data',
    type: 'audioRaw',
    id: nextFrameId(),
    name: nextFrameName(TYPE_NAMES.audioRaw),
    audio,
    sampleRate,
    numChannels,
    sampleWidth,
    numFrames: Math.floor(audio.length / (numChannels * sampleWidth)),
  }
}

/** Fields of {@link imageRaw}. */
export interface ImageRawInit {
  readonly image: Uint8Array
  /** `[width, height]`, two non-negative safe integers. */
  readonly size: readonly [number, number]
  /** e.g. `'jpeg'`; default null. */
  readonly format?: string | null
  /** e.g. `'RGB'`; default null. */
  readonly mode?: string | null
}

/**
 * `imageRaw`: a raw image. The bytes are not copied.
 * @example
 * ```ts
 * Frames.imageRaw({ image: bytes, size: [1920, 1080], format: 'jpeg', mode: 'RGB' })
 * ```
 */
export function imageRaw(init: ImageRawInit): ImageRawFrame {
  const o = requireOptions('Frames.imageRaw(init)', init)
  const image = requireBytes('imageRaw.image', o['image'])
  const size = o['size']
  if (!Array.isArray(size) || size.length !== 2) {
    throw new TypeError(`imageRaw.size must be [width, height], got ${describe(size)}`)
  }
  const width = requireInteger('imageRaw.size[0] (width)', size[0], 0)
  const height = requireInteger('imageRaw.size[1] (height)', size[1], 0)
  return {
    kind: 'data',
    type: 'imageRaw',
    id: nextFrameId(),
    name: nextFrameName(TYPE_NAMES.imageRaw),
    image,
    size: [width, height],
    format: o['format'] === undefined ? null : requireStringOrNull('imageRaw.format', o['format']),
    mode: o['mode'] === undefined ? null : requireStringOrNull('imageRaw.mode', o['mode']),
  }
}

/**
 * An app frame of your own `type` carrying `data`. The type must not be a built-in frame type.
 * Name your frame type to check `data` against it and keep its literal types: `Frames.app<Intent>('intent', data)`.
 * @example
 * ```ts
 * import { Frames, type AppFrame } from 'apipeline-ts'
 *
 * const f = Frames.app('transcript', { text: 'hi', final: true })
 * f.kind // 'app'; f.name // 'transcript#0'
 *
 * type Intent = AppFrame<'intent', { name: 'buy' | 'sell' }>
 * const buying = Math.random() > 0.5
 * const intent = Frames.app<Intent>('intent', { name: buying ? 'buy' : 'sell' }) // Intent, not { name: string }
 * ```
 */
export function app<T extends string, D>(type: T, data: D): AppFrame<T, D>
export function app<A extends AppFrame<string, unknown>>(type: A['type'], data: A['data']): A
export function app(type: string, data: unknown): AppFrame<string, unknown> {
  requireString('Frames.app(type)', type)
  if (type.length === 0) throw new TypeError('Frames.app(type) must not be empty')
  if (isBuiltinType(type)) throw new TypeError(`Frames.app(type): "${type}" is a built-in frame type`)
  return { kind: 'app', type, id: nextFrameId(), name: nextFrameName(type), data }
}

/**
 * A copy of `frame` with the given `id` and `name` (used when frames come back from the wire).
 * @example
 * ```ts
 * Frames.withIdentity(Frames.text('x'), 7, 'TextFrame#1').id // 7
 * ```
 */
export function withIdentity<F extends Frame>(frame: F, id: number, name: string): F {
  requireInteger('Frames.withIdentity(id)', id, 0)
  requireString('Frames.withIdentity(name)', name)
  return { ...frame, id, name }
}
