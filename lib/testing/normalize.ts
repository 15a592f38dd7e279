/**
 * Frame comparison for tests: two runs create frames with different `id`s and `name`s, so frames are compared by
 * `type` and payload.
 * @module
 */
import type { Frame } from '../frames/types.js'

/** Options of {@link normalizeFrame}, {@link frameKey} and {@link sameFrames}. */
export interface NormalizeOptions {
  /**
   * Extra fields to leave out of the comparison, e.g. `['processor']` to compare error frames without where they
   * came from, or `['ttfb', 'processing']` for metrics frames with measured times.
   */
  readonly ignore?: readonly string[]
}

/** Always left out: the identity of a frame and the in-memory `cause` of an error frame. */
const ALWAYS_IGNORED: readonly string[] = ['id', 'name', 'cause']

/** A frame without its identity: `kind`, `type` and payload fields. */
export type NormalizedFrame = Readonly<Record<string, unknown>> & { readonly kind: Frame['kind']; readonly type: string }

function ignoredSet(options: NormalizeOptions | undefined): ReadonlySet<string> {
  const extra = options?.ignore
  if (extra === undefined) return new Set(ALWAYS_IGNORED)
  if (!Array.isArray(extra) || extra.some((k) => typeof k !== 'string')) {
    throw new TypeError('normalize options: ignore must be an array of field names')
  }
  return new Set([...ALWAYS_IGNORED, ...extra])
}

function assertFrameLike(where: string, frame: unknown): asserts frame is Frame {
  if (frame === null || typeof frame !== 'object' || typeof (frame as { type?: unknown }).type !== 'string') {
    throw new TypeError(`${where} needs a frame, got ${frame === null ? 'null' : typeof frame}`)
  }
}

/**
 * The frame without `id`, `name` and `cause` (and any field in `options.ignore`): what two runs that behave the same
 * agree on. Byte payloads are kept as `Uint8Array`, so the result works with deep-equality matchers.
 *
 * @example
 * ```ts
 * normalizeFrame(Frames.text('hi')) // { kind: 'data', type: 'text', text: 'hi' }
 * const result = await runProcessor(myProcessor, [Frames.text('hi')])
 * const expected = [Frames.start(), Frames.text('hi'), Frames.end()]
 * expect(result.downstream.map((f) => normalizeFrame(f))).toEqual(expected.map((f) => normalizeFrame(f)))
 * ```
 */
export function normalizeFrame(frame: Frame, options?: NormalizeOptions): NormalizedFrame {
  assertFrameLike('normalizeFrame(frame)', frame)
  const ignored = ignoredSet(options)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(frame)) {
    if (!ignored.has(key)) out[key] = (frame as unknown as Record<string, unknown>)[key]
  }
  return out as NormalizedFrame
}

const hex = (bytes: Uint8Array): string => {
  let s = ''
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16)
  return s
}

/** A canonical text for any value: object keys sorted, bytes as hex, cycles marked. */
function canonical(value: unknown, seen: unknown[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
    case 'boolean':
      return String(value)
    case 'undefined':
      return 'undefined'
    case 'symbol':
      return value.toString()
    case 'function':
      return `[function ${value.name}]`
    default:
      break
  }
  if (value === null) return 'null'
  if (seen.includes(value)) return '[cyclic]'
  const inner = [...seen, value]
  if (value instanceof Uint8Array) return `bytes(${hex(value)})`
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))})`
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, inner)).join(',')}]`
  if (value instanceof Date) return `Date(${value.getTime()})`
  if (value instanceof Map) {
    const entries = [...value.entries()].map(([k, v]) => `${canonical(k, inner)}=>${canonical(v, inner)}`).sort()
    return `Map{${entries.join(',')}}`
  }
  if (value instanceof Set) return `Set{${[...value].map((v) => canonical(v, inner)).sort().join(',')}}`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k], inner)}`).join(',')}}`
}

/**
 * A string that is equal for two frames exactly when their normalized forms are deep-equal: use it to compare
 * frames, count them in a multiset or sort them.
 *
 * @example
 * ```ts
 * frameKey(Frames.text('a')) === frameKey(Frames.text('a')) // true (ids differ)
 * frameKey(Frames.text('a')) === frameKey(Frames.text('b')) // false
 * ```
 */
export function frameKey(frame: Frame, options?: NormalizeOptions): string {
  return canonical(normalizeFrame(frame, options), [])
}

/**
 * True when both lists hold frames of the same types and payloads in the same order (ids and names ignored).
 *
 * @example
 * ```ts
 * sameFrames([Frames.text('a'), Frames.end()], [Frames.text('a'), Frames.end()]) // true
 * sameFrames([Frames.error('x', { processor: 'a' })], [Frames.error('x', { processor: 'b' })], { ignore: ['processor'] }) // true
 * ```
 */
export function sameFrames(a: readonly Frame[], b: readonly Frame[], options?: NormalizeOptions): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) throw new TypeError('sameFrames(a, b) needs two arrays of frames')
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    if (frameKey(a[i] as Frame, options) !== frameKey(b[i] as Frame, options)) return false
  }
  return true
}

/**
 * A one-line description of the first difference between two frame lists, or `undefined` when they are the same
 * (per {@link sameFrames}). Handy in assertion messages.
 *
 * @example
 * ```ts
 * describeDifference([Frames.text('a')], [Frames.text('b')])
 * // 'at index 0: {"kind":"data","text":"a","type":"text"} vs {"kind":"data","text":"b","type":"text"}'
 * ```
 */
export function describeDifference(a: readonly Frame[], b: readonly Frame[], options?: NormalizeOptions): string | undefined {
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a[i]
    const y = b[i]
    const kx = x === undefined ? '(nothing)' : frameKey(x, options)
    const ky = y === undefined ? '(nothing)' : frameKey(y, options)
    if (kx !== ky) return `at index ${i}: ${kx} vs ${ky} (lengths ${a.length} and ${b.length})`
  }
  return undefined
}

/**
 * The frames without `start`, `end` and `metrics` frames: the payload of a run, for comparing what a processor
 * produced without its lifecycle.
 *
 * @example
 * ```ts
 * const { downstream } = await runProcessor(upper, [Frames.text('hi')])
 * withoutLifecycle(downstream).map((f) => normalizeFrame(f)) // [{ kind: 'data', type: 'text', text: 'HI' }]
 * ```
 */
export function withoutLifecycle<F extends Frame>(frames: readonly F[]): F[] {
  return frames.filter((f) => f.kind === 'app' || (f.type !== 'start' && f.type !== 'end' && f.type !== 'metrics'))
}
