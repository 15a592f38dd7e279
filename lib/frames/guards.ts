/**
 * Type guards over frames.
 * @module
 */
import { TYPE_KINDS } from './identity.js'
import type { AppFrame, BuiltinFrameType, ControlFrame, DataFrame, Frame, FrameOfType, SystemFrame } from './types.js'

/** The kind of every built-in frame type (one lookup per check, where `isFrame` runs for every frame queued). */
const KIND_OF_TYPE: ReadonlyMap<string, string> = new Map(Object.entries(TYPE_KINDS))

/**
 * True for system frames (out-of-band: may overtake queued frames).
 * @example
 * ```ts
 * const system = input.filter(Frames.isSystem) // cancel, error, metrics, interruptions …
 * ```
 */
export function isSystem(frame: Frame): frame is SystemFrame {
  return frame.kind === 'system'
}

/**
 * True for control frames (ordered with data).
 * @example
 * ```ts
 * Frames.isControl(Frames.end()) // true
 * ```
 */
export function isControl(frame: Frame): frame is ControlFrame {
  return frame.kind === 'control'
}

/**
 * True for data frames.
 * @example
 * ```ts
 * let bytesIn = 0
 * if (Frames.isData(frame)) bytesIn += frame.type === 'audioRaw' ? frame.audio.length : 0
 * ```
 */
export function isData(frame: Frame): frame is DataFrame {
  return frame.kind === 'data'
}

/**
 * True for app frames.
 * @example
 * ```ts
 * if (Frames.isApp(frame)) console.log(frame.type, frame.data)
 * ```
 */
export function isApp(frame: Frame): frame is AppFrame {
  return frame.kind === 'app'
}

/**
 * A guard for one or more built-in frame types.
 * @example
 * ```ts
 * const isText = Frames.is('text')
 * if (isText(frame)) console.log(frame.text)
 * const isLifecycle = Frames.is('start', 'end', 'cancel')
 * ```
 */
export function is<T extends BuiltinFrameType>(...types: T[]): (frame: Frame) => frame is FrameOfType<T> {
  if (types.length === 1) {
    const only = types[0]
    return (frame: Frame): frame is FrameOfType<T> => frame.type === only && frame.kind !== 'app'
  }
  const set = new Set<string>(types)
  return (frame: Frame): frame is FrameOfType<T> => frame.kind !== 'app' && set.has(frame.type)
}

/**
 * A guard for app frames of one `type`.
 * @example
 * ```ts
 * type Transcript = AppFrame<'transcript', { text: string }>
 * const isTranscript = Frames.isAppType<Transcript>('transcript')
 * if (isTranscript(frame)) console.log(frame.data.text)
 * ```
 */
export function isAppType<A extends AppFrame>(type: A['type']): (frame: Frame) => frame is A {
  return (frame: Frame): frame is A => frame.kind === 'app' && frame.type === type
}

/**
 * True when `value` has the shape of a frame: a known `kind`, a `type` that matches it, a numeric `id` and a string `name`.
 * @example
 * ```ts
 * Frames.isFrame(Frames.end()) // true
 * Frames.isFrame({ type: 'text' }) // false
 * ```
 */
export function isFrame(value: unknown): value is Frame {
  if (value === null || typeof value !== 'object') return false
  const v = value as Record<string, unknown>
  const kind = v['kind']
  const type = v['type']
  if (typeof type !== 'string' || typeof v['id'] !== 'number' || typeof v['name'] !== 'string') return false
  const builtin = KIND_OF_TYPE.get(type)
  return kind === 'app' ? builtin === undefined : builtin !== undefined && builtin === kind
}

/**
 * True for `start`, `end` and `cancel`: the frames that open and close a run.
 * @example
 * ```ts
 * Frames.isLifecycle(Frames.start()) // true
 * ```
 */
export function isLifecycle(frame: Frame): boolean {
  return frame.kind !== 'app' && (frame.type === 'start' || frame.type === 'end' || frame.type === 'cancel')
}

/**
 * True for `startInterruption` and `interruption`.
 * @example
 * ```ts
 * if (Frames.isInterruption(frame)) player.stop()
 * ```
 */
export function isInterruption(frame: Frame): boolean {
  return frame.kind === 'system' && (frame.type === 'startInterruption' || frame.type === 'interruption')
}
