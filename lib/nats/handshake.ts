/**
 * Opening a session: the caller sends an open request (JSON) on the service subject with a reply subject; the worker
 * that takes it answers with an accept or a refusal (JSON). Both sides then talk on their own session subjects.
 * @module
 */
import { jsonSerializer } from '../wire/index.js'
import type { StartFrame } from '../frames/types.js'
import { MalformedMessageError } from './errors.js'

/**
 * Version of the session protocol; a worker refuses another, so mixed versions fail at open with a `NoWorkerError`
 * (`reason: 'rejected'`) rather than mid-session. 2: messages may travel in batches.
 */
export const PROTOCOL_VERSION = 2

/** Caller → worker, on the service subject. */
export interface OpenRequest {
  readonly v: number
  /** Session id, chosen by the caller (unique). */
  readonly session: string
  /** Where the worker sends the session's messages. */
  readonly caller: string
  /** The caller's stage name: the worker names its stages under it, so remote errors read as local ones. */
  readonly name: string
  /** The run's `start` frame (its parameters start the worker's task). */
  readonly start: StartFrame
  /** Frames the caller accepts before it grants more credit. */
  readonly window: number
  /** Heartbeat interval and timeout (both sides use them), in ms. */
  readonly heartbeatMs: number
  readonly heartbeatTimeoutMs: number
  /** The binary frame format the caller writes (`'protobuf'`). */
  readonly format: string
}

/** Worker → caller, the answer to an open request. */
export type OpenReply =
  | {
      readonly ok: true
      readonly worker: string
      readonly window: number
      readonly workerId: string
      /** The worker's count of sessions taken, this one included (matches `LoadReport.started`; absent from older workers). */
      readonly started?: number
    }
  | { readonly ok: false; readonly code: 'busy' | 'rejected'; readonly message: string }

const json = jsonSerializer()
const decoder = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

/** Bytes of an open request. */
export function encodeOpenRequest(request: OpenRequest): Uint8Array {
  return encoder.encode(JSON.stringify({ ...request, start: JSON.parse(json.serialize(request.start) as string) as unknown }))
}

function parseObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch (err) {
    throw new MalformedMessageError(`${what} is not JSON`, { cause: err })
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MalformedMessageError(`${what} is not a JSON object`)
  return value as Record<string, unknown>
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024

/** Reads an open request; anything else is a {@link MalformedMessageError}. */
export function decodeOpenRequest(bytes: Uint8Array): OpenRequest {
  const o = parseObject(bytes, 'open request')
  if (o['v'] !== PROTOCOL_VERSION) throw new MalformedMessageError(`open request: protocol version ${String(o['v'])}, this worker speaks ${PROTOCOL_VERSION}`)
  for (const key of ['session', 'caller', 'name', 'format'] as const) {
    if (!isName(o[key])) throw new MalformedMessageError(`open request: ${key} must be a non-empty string`)
  }
  for (const key of ['window', 'heartbeatMs', 'heartbeatTimeoutMs'] as const) {
    if (!isPositiveInt(o[key])) throw new MalformedMessageError(`open request: ${key} must be an integer >= 1`)
  }
  if (/[\s*>]/.test(o['caller'] as string)) throw new MalformedMessageError('open request: caller is not a subject')
  let start: unknown
  try {
    start = json.deserialize(JSON.stringify(o['start']))
  } catch (err) {
    throw new MalformedMessageError('open request: start is not a start frame', { cause: err })
  }
  if ((start as { type?: unknown }).type !== 'start') throw new MalformedMessageError('open request: start is not a start frame')
  return {
    v: PROTOCOL_VERSION,
    session: o['session'] as string,
    caller: o['caller'] as string,
    name: o['name'] as string,
    start: start as StartFrame,
    window: o['window'] as number,
    heartbeatMs: o['heartbeatMs'] as number,
    heartbeatTimeoutMs: o['heartbeatTimeoutMs'] as number,
    format: o['format'] as string,
  }
}

/** Bytes of an open reply. */
export function encodeOpenReply(reply: OpenReply): Uint8Array {
  return encoder.encode(JSON.stringify(reply))
}

/** Reads an open reply; anything else is a {@link MalformedMessageError}. */
export function decodeOpenReply(bytes: Uint8Array): OpenReply {
  const o = parseObject(bytes, 'open reply')
  if (o['ok'] === true) {
    if (!isName(o['worker']) || !isPositiveInt(o['window']) || !isName(o['workerId'])) {
      throw new MalformedMessageError('open reply: worker, window and workerId are required')
    }
    const started = o['started']
    if (started !== undefined && !isPositiveInt(started)) throw new MalformedMessageError('open reply: started must be an integer >= 1')
    return { ok: true, worker: o['worker'], window: o['window'], workerId: o['workerId'], ...(started === undefined ? {} : { started }) }
  }
  if (o['ok'] === false && (o['code'] === 'busy' || o['code'] === 'rejected') && typeof o['message'] === 'string') {
    return { ok: false, code: o['code'], message: o['message'] }
  }
  throw new MalformedMessageError('open reply: neither an accept nor a refusal')
}
