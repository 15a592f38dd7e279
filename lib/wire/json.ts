/**
 * The JSON wire format of apipeline: every built-in frame and app frames, lossless.
 *
 * One frame is one JSON object: `kind`, `type`, `id`, `name`, then the frame's own fields under their TypeScript
 * names; bytes are standard padded base64; `imageRaw.size` is `[width, height]`; app frames carry `data` as JSON.
 * See the README ("JSON frame format") for the full list.
 * @module
 */
import { uninterruptible } from '../interruption/uninterruptible.js'
import * as F from '../frames/constructors.js'
import { isBuiltinType, TYPE_KINDS } from '../frames/identity.js'
import type { BuiltinFrameType, Frame, MetricValue } from '../frames/types.js'
import { describe, UINT32_MAX } from '../frames/validate.js'
import { fromBase64, toBase64 } from './base64.js'
import { FrameDecodeError, FrameEncodeError } from './errors.js'
import { nestsDeeperThan } from './json-depth.js'
import { jsonProblem, MAX_JSON_DEPTH } from './json-value.js'
import { wireInput, type FrameSerializer, type WireInput } from './serializer.js'

const FORMAT = 'json'

/** The kinds of value a field holds; each has a check on both sides and a conversion for bytes. */
type FieldType = 'string' | 'boolean' | 'count' | 'bytes' | 'size' | 'stringOrNull' | 'metrics' | 'json'

interface FieldSpec {
  readonly key: string
  readonly type: FieldType
  readonly optional?: boolean
}

const f = (key: string, type: FieldType, optional = false): FieldSpec => ({ key, type, optional })

/** The fields of each built-in frame type beyond `kind`, `type`, `id`, `name`, in output order. */
const BUILTIN_FIELDS: { readonly [T in BuiltinFrameType]: readonly FieldSpec[] } = {
  cancel: [],
  error: [f('error', 'string'), f('fatal', 'boolean'), f('processor', 'string', true)],
  stopTask: [],
  interruptionTask: [],
  startInterruption: [],
  stopInterruption: [],
  interruption: [],
  metrics: [f('ttfb', 'metrics'), f('processing', 'metrics'), f('tokens', 'metrics'), f('characters', 'metrics')],
  start: [
    f('allowInterruptions', 'boolean'),
    f('enableMetrics', 'boolean'),
    f('enableUsageMetrics', 'boolean'),
    f('reportOnlyInitialTtfb', 'boolean'),
    f('audioInSampleRate', 'count'),
    f('audioOutSampleRate', 'count'),
  ],
  end: [],
  sync: [],
  syncNotify: [],
  text: [f('text', 'string')],
  audioRaw: [f('audio', 'bytes'), f('sampleRate', 'count'), f('numChannels', 'count'), f('sampleWidth', 'count')],
  imageRaw: [f('image', 'bytes'), f('size', 'size'), f('format', 'stringOrNull'), f('mode', 'stringOrNull')],
}

const APP_FIELDS: readonly FieldSpec[] = [f('data', 'json')]
const HEADER_KEYS = ['kind', 'type', 'id', 'name'] as const

const allowedKeys = (fields: readonly FieldSpec[]): ReadonlySet<string> =>
  new Set<string>([...HEADER_KEYS, ...fields.map((s) => s.key)])
const BUILTIN_KEYS = Object.fromEntries(
  Object.entries(BUILTIN_FIELDS).map(([type, fields]) => [type, allowedKeys(fields)]),
) as { readonly [T in BuiltinFrameType]: ReadonlySet<string> }
const APP_KEYS = allowedKeys(APP_FIELDS)

const own = (obj: object, key: string): unknown =>
  Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined
const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key)

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= UINT32_MAX
const isDimension = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

// ---------------------------------------------------------------- encoding

function badEncode(frame: Frame, key: string, expected: string, value: unknown): never {
  throw new FrameEncodeError(FORMAT, String(frame.type), `${key} must be ${expected}, got ${describe(value)}`)
}

function isMetric(m: unknown): boolean {
  return m !== null && typeof m === 'object' && typeof own(m, 'processor') === 'string' && Number.isFinite(own(m, 'value'))
}

function encodeField(frame: Frame, spec: FieldSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? value : badEncode(frame, spec.key, 'a string', value)
    case 'boolean':
      return typeof value === 'boolean' ? value : badEncode(frame, spec.key, 'a boolean', value)
    case 'count':
      return isCount(value) ? value : badEncode(frame, spec.key, `an integer from 1 to ${UINT32_MAX}`, value)
    case 'bytes':
      return value instanceof Uint8Array ? toBase64(value) : badEncode(frame, spec.key, 'a Uint8Array', value)
    case 'stringOrNull':
      return value === null || typeof value === 'string' ? value : badEncode(frame, spec.key, 'a string or null', value)
    case 'size':
      return Array.isArray(value) && value.length === 2 && isDimension(value[0]) && isDimension(value[1])
        ? [value[0], value[1]]
        : badEncode(frame, spec.key, '[width, height] with non-negative integers', value)
    case 'metrics': {
      if (!Array.isArray(value) || !value.every(isMetric)) {
        return badEncode(frame, spec.key, 'an array of { processor: string, value: finite number }', value)
      }
      return value.map((m: object) => ({ processor: own(m, 'processor'), value: own(m, 'value') }))
    }
    case 'json': {
      const problem = jsonProblem(value)
      if (problem !== undefined) throw new FrameEncodeError(FORMAT, String(frame.type), problem)
      return value
    }
  }
}

/**
 * Encodes one frame as a JSON text. Throws a {@link FrameEncodeError} for app data that is not plain JSON or a
 * frame whose fields have the wrong types.
 * @example
 * ```ts
 * encodeJson(Frames.text('hi')) // '{"kind":"data","type":"text","id":1,"name":"TextFrame#0","text":"hi"}'
 * ```
 */
export function encodeJson(frame: Frame): string {
  if (frame === null || typeof frame !== 'object') {
    throw new FrameEncodeError(FORMAT, 'unknown', `a frame must be an object, got ${describe(frame)}`)
  }
  const { kind, type, id, name } = frame as { kind: unknown; type: unknown; id: unknown; name: unknown }
  const typeName = typeof type === 'string' ? type : 'unknown'
  let fields: readonly FieldSpec[]
  if (kind === 'app' && typeof type === 'string' && type !== '' && !isBuiltinType(type)) fields = APP_FIELDS
  else if (typeof type === 'string' && isBuiltinType(type) && TYPE_KINDS[type] === kind) fields = BUILTIN_FIELDS[type]
  else throw new FrameEncodeError(FORMAT, typeName, `kind ${describe(kind)} and type ${describe(type)} do not make a frame`)
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    throw new FrameEncodeError(FORMAT, typeName, `id must be a non-negative safe integer, got ${describe(id)}`)
  }
  if (typeof name !== 'string') throw new FrameEncodeError(FORMAT, typeName, `name must be a string, got ${describe(name)}`)
  const out: Record<string, unknown> = { kind, type, id, name }
  for (const spec of fields) {
    const value = own(frame, spec.key)
    if (value === undefined && spec.optional === true) continue
    out[spec.key] = encodeField(frame, spec, value)
  }
  // The interruption mark travels as a header field, only when set.
  if (own(frame, 'uninterruptible') === true) out.uninterruptible = true
  return JSON.stringify(out)
}

// ---------------------------------------------------------------- decoding

function fail(message: string, cause?: unknown): never {
  throw new FrameDecodeError(FORMAT, message, cause === undefined ? undefined : { cause })
}

function badDecode(where: string, key: string, expected: string, value: unknown): never {
  return fail(`${where}.${key} must be ${expected}, got ${describe(value)}`)
}

function decodeMetric(where: string, key: string, m: unknown): MetricValue {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return badDecode(where, key, 'an array of { processor, value } objects', m)
  for (const k of Object.keys(m)) {
    if (k !== 'processor' && k !== 'value') badDecode(where, key, `an array of { processor, value } objects (unknown key ${JSON.stringify(k)})`, m)
  }
  const processor = own(m, 'processor')
  const value = own(m, 'value')
  if (typeof processor !== 'string' || typeof value !== 'number' || !Number.isFinite(value)) {
    return badDecode(where, key, 'an array of { processor: string, value: finite number }', m)
  }
  return { processor, value }
}

function decodeField(where: string, spec: FieldSpec, value: unknown): unknown {
  const key = spec.key
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? value : badDecode(where, key, 'a string', value)
    case 'boolean':
      return typeof value === 'boolean' ? value : badDecode(where, key, 'a boolean', value)
    case 'count':
      return isCount(value) ? value : badDecode(where, key, `an integer from 1 to ${UINT32_MAX}`, value)
    case 'bytes': {
      if (typeof value !== 'string') return badDecode(where, key, 'a base64 string', value)
      return fromBase64(value) ?? badDecode(where, key, 'standard padded base64', value)
    }
    case 'stringOrNull':
      return value === null || typeof value === 'string' ? value : badDecode(where, key, 'a string or null', value)
    case 'size':
      return Array.isArray(value) && value.length === 2 && isDimension(value[0]) && isDimension(value[1])
        ? [value[0], value[1]]
        : badDecode(where, key, '[width, height] with non-negative integers', value)
    case 'metrics': {
      if (!Array.isArray(value)) return badDecode(where, key, 'an array', value)
      const out: MetricValue[] = []
      for (const m of value) out.push(decodeMetric(where, key, m))
      return out
    }
    case 'json': {
      const problem = jsonProblem(value)
      return problem === undefined ? value : fail(`${where}: ${problem}`)
    }
  }
}

type Decoded = Record<string, unknown>

function build(type: string, v: Decoded): Frame {
  switch (type as BuiltinFrameType) {
    case 'cancel':
      return F.cancel()
    case 'error':
      return F.error(v['error'] as string, {
        fatal: v['fatal'] as boolean,
        ...(v['processor'] === undefined ? {} : { processor: v['processor'] as string }),
      })
    case 'stopTask':
      return F.stopTask()
    case 'interruptionTask':
      return F.interruptionTask()
    case 'startInterruption':
      return F.startInterruption()
    case 'stopInterruption':
      return F.stopInterruption()
    case 'interruption':
      return F.interruption()
    case 'metrics':
      return F.metrics(v as F.MetricsInit)
    case 'start':
      return F.start(v)
    case 'end':
      return F.end()
    case 'sync':
      return F.sync()
    case 'syncNotify':
      return F.syncNotify()
    case 'text':
      return F.text(v['text'] as string)
    case 'audioRaw':
      return F.audioRaw(v as unknown as F.AudioRawInit)
    case 'imageRaw':
      return F.imageRaw(v as unknown as F.ImageRawInit)
    default:
      return F.app(type, v['data'])
  }
}

/**
 * Decodes one JSON frame (a string, or UTF-8 bytes). Every field is checked; frames are built by the `Frames`
 * constructors, then given the `id` and `name` from the input. Throws only {@link FrameDecodeError}.
 * @example
 * ```ts
 * decodeJson('{"kind":"control","type":"end","id":9,"name":"EndFrame#0"}') // EndFrame#0, id 9
 * ```
 */
export function decodeJson(data: WireInput): Frame {
  try {
    const input = wireInput(FORMAT, data)
    let textInput: string
    if (typeof input === 'string') textInput = input
    else {
      try {
        textInput = new TextDecoder('utf-8', { fatal: true }).decode(input)
      } catch (err) {
        return fail('input bytes are not valid UTF-8', err)
      }
    }
    // The frame object is one level, its app data up to MAX_JSON_DEPTH more. Checked before parsing: JSON.parse
    // would build any depth (a million nested arrays take it ~0.4 s) before the data check could refuse it.
    if (nestsDeeperThan(textInput, MAX_JSON_DEPTH + 1)) {
      return fail(`the frame nests deeper than ${MAX_JSON_DEPTH} levels of app data`)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(textInput)
    } catch (err) {
      return fail(`not JSON: ${err instanceof Error ? err.message : String(err)}`, err)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return fail(`a frame must be a JSON object, got ${describe(parsed)}`)
    }
    const obj = parsed as object
    const kind = own(obj, 'kind')
    const type = own(obj, 'type')
    const id = own(obj, 'id')
    const name = own(obj, 'name')
    if (typeof type !== 'string' || type === '') return fail(`type must be a non-empty string, got ${describe(type)}`)
    let fields: readonly FieldSpec[]
    let allowed: ReadonlySet<string>
    if (isBuiltinType(type)) {
      if (kind !== TYPE_KINDS[type]) return fail(`kind of a ${type} frame must be "${TYPE_KINDS[type]}", got ${describe(kind)}`)
      fields = BUILTIN_FIELDS[type]
      allowed = BUILTIN_KEYS[type]
    } else {
      if (kind !== 'app') return fail(`unknown frame type ${describe(type)} (app frames have kind "app", got ${describe(kind)})`)
      fields = APP_FIELDS
      allowed = APP_KEYS
    }
    for (const key of Object.keys(obj)) {
      if (!allowed.has(key) && key !== 'uninterruptible') return fail(`unknown key ${JSON.stringify(key)} in a ${type} frame`)
    }
    const mark = own(obj, 'uninterruptible')
    if (mark !== undefined && typeof mark !== 'boolean') return fail(`uninterruptible must be a boolean, got ${describe(mark)}`)
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      return fail(`id must be a non-negative safe integer, got ${describe(id)}`)
    }
    if (typeof name !== 'string') return fail(`name must be a string, got ${describe(name)}`)
    const values: Decoded = {}
    for (const spec of fields) {
      if (!hasOwn(obj, spec.key)) {
        if (spec.optional === true) continue
        return fail(`${type} frame is missing ${spec.key}`)
      }
      values[spec.key] = decodeField(type, spec, own(obj, spec.key))
    }
    const frame = F.withIdentity(build(type, values), id, name)
    return mark === true ? uninterruptible(frame) : frame
  } catch (err) {
    if (err instanceof FrameDecodeError) throw err
    return fail(err instanceof Error ? err.message : String(err), err)
  }
}

/**
 * The JSON serializer: `serialize` returns a string, `deserialize` takes a string or UTF-8 bytes. Lossless for
 * every built-in frame (except an error frame's in-memory `cause`, which is not sent) and for app frames whose
 * `data` is plain JSON; unknown keys, missing fields and wrong field types are {@link FrameDecodeError}s.
 * @example
 * ```ts
 * const ser = jsonSerializer()
 * const text = ser.serialize(Frames.app('transcript', { text: 'hi', final: true }))
 * ser.deserialize(text) // the same app frame, same id and name
 * ```
 */
export function jsonSerializer(): FrameSerializer<string> {
  return {
    format: FORMAT,
    supports: (frame: Frame): boolean =>
      frame.kind === 'app' ? !isBuiltinType(frame.type as string) : isBuiltinType(frame.type) && TYPE_KINDS[frame.type] === frame.kind,
    serialize: encodeJson,
    deserialize: decodeJson,
  }
}
