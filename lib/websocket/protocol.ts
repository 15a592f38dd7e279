/**
 * What travels on the socket besides serialized frames: the subprotocol that names the serializer, the frames
 * that ask the server for an interruption, and the acknowledgement of frames the client played.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { app, interruption, interruptionTask } from '../frames/constructors.js'
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

/** The app frame type of a playback acknowledgement (see {@link playedAck}). */
export const PLAYED_ACK_TYPE = 'playedFrames'

/** Most ids one acknowledgement carries (a longer list is a malformed acknowledgement). */
export const MAX_PLAYED_IDS = 4096

/**
 * The frame a client sends to report that the frames with `ids` (received from the server) reached the user — were
 * played, shown. A server serving with `delivery: 'played'` marks them delivered for its interruption report. An app
 * frame, so it needs a format that carries app frames (JSON; protobuf does not).
 * @example
 * ```ts
 * playedAck([12, 13]).type // 'playedFrames'
 * ```
 */
export function playedAck(ids: readonly number[]): Frame {
  return app(PLAYED_ACK_TYPE, { ids: [...ids] })
}

/**
 * The ids of a playback acknowledgement, or `undefined` when `frame` is not a well-formed one (an app frame of type
 * `playedFrames` whose `data.ids` is an array of at most {@link MAX_PLAYED_IDS} non-negative integers).
 * @example
 * ```ts
 * playedIds(playedAck([12])) // [12]
 * playedIds(Frames.text('hi')) // undefined
 * ```
 */
export function playedIds(frame: Frame): readonly number[] | undefined {
  if (frame.kind !== 'app' || frame.type !== PLAYED_ACK_TYPE) return undefined
  const data = (frame as { data?: unknown }).data
  const ids = data !== null && typeof data === 'object' ? (data as { ids?: unknown }).ids : undefined
  if (!Array.isArray(ids) || ids.length > MAX_PLAYED_IDS) return undefined
  return ids.every((id) => Number.isInteger(id) && (id as number) >= 0) ? (ids as number[]) : undefined
}
