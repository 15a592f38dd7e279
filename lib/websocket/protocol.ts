/**
 * What travels on the socket besides serialized frames: the subprotocol that names the serializer, and the frames
 * that ask the server for an interruption.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { interruption, interruptionTask } from '../frames/constructors.js'
import type { FrameSerializer } from '../wire/serializer.js'

/** Subprotocol prefix: a client using the JSON format asks for `apipeline.json`. */
export const SUBPROTOCOL_PREFIX = 'apipeline.'

/**
 * The subprotocol a client announces for `serializer`: none for protobuf (the default format, and what a Python
 * client sends), `apipeline.<format>` for any other format.
 * @example
 * ```ts
 * subprotocolFor(jsonSerializer()) // 'apipeline.json'
 * subprotocolFor(protobufSerializer()) // undefined
 * ```
 */
export function subprotocolFor(serializer: FrameSerializer): string | undefined {
  return serializer.format === 'protobuf' ? undefined : `${SUBPROTOCOL_PREFIX}${serializer.format}`
}

/**
 * True for frames a client sends to interrupt the session: `interruptionTask`, `interruption` and
 * `startInterruption` (the last two are what a Python client can carry in protobuf).
 * @example
 * ```ts
 * isInterruptionRequest(Frames.interruption()) // true
 * isInterruptionRequest(Frames.text('hi')) // false
 * ```
 */
export function isInterruptionRequest(frame: Frame): boolean {
  return frame.kind === 'system' && (frame.type === 'interruptionTask' || frame.type === 'interruption' || frame.type === 'startInterruption')
}

/**
 * The frame a client sends to ask for an interruption: `interruptionTask` when the format carries it, else
 * `interruption`.
 * @example
 * ```ts
 * interruptionRequest(protobufSerializer()).type // 'interruption'
 * ```
 */
export function interruptionRequest(serializer: FrameSerializer): Frame {
  const request = interruptionTask()
  return serializer.supports(request) ? request : interruption()
}

/**
 * True when the format carries `end` (JSON does, protobuf does not).
 * @example
 * ```ts
 * carriesLifecycle(jsonSerializer()) // true
 * ```
 */
export function carriesLifecycle(serializer: FrameSerializer): boolean {
  return serializer.supports({ kind: 'control', type: 'end', id: 0, name: 'EndFrame#probe' } as Frame)
}
