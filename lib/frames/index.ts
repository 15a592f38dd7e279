/**
 * The `Frames` namespace: constructors, guards and formatting.
 *
 * @example
 * ```ts
 * import { Frames } from 'apipeline-ts'
 *
 * const hi = Frames.text('hi')
 * Frames.isData(hi)          // true
 * Frames.is('text')(hi)      // true
 * Frames.format(hi)          // 'TextFrame#0(text: "hi")'
 * ```
 * @module
 */
export {
  app,
  audioRaw,
  cancel,
  DEFAULT_START_PARAMS,
  end,
  error,
  imageRaw,
  interruption,
  interruptionTask,
  metrics,
  start,
  startInterruption,
  stopInterruption,
  stopTask,
  sync,
  syncNotify,
  text,
  withIdentity,
} from './constructors.js'
export type { AudioRawInit, ErrorOptions, ImageRawInit, MetricsInit } from './constructors.js'
export { is, isApp, isAppType, isControl, isData, isFrame, isInterruption, isLifecycle, isSystem } from './guards.js'
export { format } from './format.js'
export { defineAppFrame, type AppFrameDefinition } from './define.js'
export { TYPE_KINDS, TYPE_NAMES } from './identity.js'
