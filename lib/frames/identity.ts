/**
 * Frame identity: one process-wide increasing id and a per-type name counter.
 * @module
 */

let lastId = 0
const counters = new Map<string, number>()

/** The next process-wide unique frame id (starts at 1). */
export function nextFrameId(): number {
  return ++lastId
}

/** The next `"<typeName>#<n>"` name for `typeName`; `n` counts from 0 per type name. */
export function nextFrameName(typeName: string): string {
  const n = counters.get(typeName) ?? 0
  counters.set(typeName, n + 1)
  return `${typeName}#${n}`
}

/**
 * The name prefix used for each built-in `type`. App frames use their own `type`.
 * @example
 * ```ts
 * Frames.TYPE_NAMES.audioRaw // 'AudioRawFrame'
 * ```
 */
export const TYPE_NAMES = {
  cancel: 'CancelFrame',
  error: 'ErrorFrame',
  stopTask: 'StopTaskFrame',
  interruptionTask: 'InterruptionTaskFrame',
  startInterruption: 'StartInterruptionFrame',
  stopInterruption: 'StopInterruptionFrame',
  interruption: 'InterruptionFrame',
  metrics: 'MetricsFrame',
  start: 'StartFrame',
  end: 'EndFrame',
  sync: 'SyncFrame',
  syncNotify: 'SyncNotifyFrame',
  text: 'TextFrame',
  audioRaw: 'AudioRawFrame',
  imageRaw: 'ImageRawFrame',
} as const

/**
 * The `kind` of each built-in `type`.
 * @example
 * ```ts
 * Frames.TYPE_KINDS.end // 'control'
 * ```
 */
export const TYPE_KINDS = {
  cancel: 'system',
  error: 'system',
  stopTask: 'system',
  interruptionTask: 'system',
  startInterruption: 'system',
  stopInterruption: 'system',
  interruption: 'system',
  metrics: 'system',
  start: 'control',
  end: 'control',
  sync: 'control',
  syncNotify: 'control',
  text: 'data',
  audioRaw: 'data',
  imageRaw: 'data',
} as const

/** True when `type` is the `type` of a built-in frame. */
export function isBuiltinType(type: string): type is keyof typeof TYPE_KINDS {
  return Object.prototype.hasOwnProperty.call(TYPE_KINDS, type)
}
