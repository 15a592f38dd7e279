/**
 * Frame arbitraries for the wire format tests: every built-in type with edge values, and app frames.
 */
import fc from 'fast-check'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'

/** Strings of whole code points (well-formed Unicode), including astral ones. */
export const wellFormed = (maxLength = 40): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength })
/** Strings of arbitrary UTF-16 code units, lone surrogates included. */
export const anyUtf16 = (maxLength = 40): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength })

const id = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }))
const name = (str: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom('TextFrame#0', 'AudioRawFrame#12'), str.filter((s) => s.length > 0))
const uint32 = fc.oneof(fc.integer({ min: 1, max: 48000 }), fc.integer({ min: 1, max: 0xffff_ffff }))
const bytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 100, maxLength: 2000 }))
const dimension = fc.oneof(fc.integer({ min: 0, max: 8000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))

function identified(frame: fc.Arbitrary<Frame>, str: fc.Arbitrary<string>): fc.Arbitrary<Frame> {
  return fc.tuple(frame, id, name(str)).map(([f, i, n]) => Frames.withIdentity(f, i, n))
}

/** The frames the protobuf schema carries, with well-formed strings and values the wire types hold. */
export function arbProtobufFrame(): fc.Arbitrary<Frame> {
  const str = wellFormed()
  return identified(
    fc.oneof(
      str.map((t) => Frames.text(t)),
      fc
        .record({ audio: bytes, sampleRate: uint32, numChannels: uint32, sampleWidth: uint32 })
        .map((init) => Frames.audioRaw(init)),
      fc
        .record({ image: bytes, size: fc.tuple(dimension, dimension), format: fc.option(str), mode: fc.option(str) })
        .map((init) => Frames.imageRaw(init)),
      fc.constant(null).map(() => Frames.interruption()),
      fc.constant(null).map(() => Frames.startInterruption()),
      fc.constant(null).map(() => Frames.stopInterruption()),
    ),
    str,
  )
}

const metricList = fc.array(
  fc.record({ processor: anyUtf16(10), value: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v)) }),
  { maxLength: 3 },
)

/** JSON values that `JSON.parse(JSON.stringify(v))` returns deep-equal (no `-0`, no `__proto__` keys). */
export const plainJson = (): fc.Arbitrary<unknown> =>
  fc
    .jsonValue({ maxDepth: 4 })
    .filter((v) => !JSON.stringify(v).includes('"__proto__"'))
    .map((v) => JSON.parse(JSON.stringify(v)) as unknown)

/** Every built-in frame type and app frames, with any UTF-16 strings. */
export function arbAnyFrame(): fc.Arbitrary<Frame> {
  const str = anyUtf16()
  const count = fc.oneof(fc.integer({ min: 1, max: 48000 }), fc.integer({ min: 1, max: 0xffff_ffff }))
  const appType = str.filter((t) => t.length > 0 && !Object.prototype.hasOwnProperty.call(Frames.TYPE_KINDS, t))
  return identified(
    fc.oneof(
      str.map((t) => Frames.text(t)),
      fc.record({ audio: bytes, sampleRate: count, numChannels: count, sampleWidth: count }).map((i) => Frames.audioRaw(i)),
      fc
        .record({ image: bytes, size: fc.tuple(dimension, dimension), format: fc.option(str), mode: fc.option(str) })
        .map((i) => Frames.imageRaw(i)),
      fc.constant(null).map(() => Frames.interruption()),
      fc.constant(null).map(() => Frames.startInterruption()),
      fc.constant(null).map(() => Frames.stopInterruption()),
      fc.constant(null).map(() => Frames.cancel()),
      fc.constant(null).map(() => Frames.stopTask()),
      fc.constant(null).map(() => Frames.interruptionTask()),
      fc.constant(null).map(() => Frames.end()),
      fc.constant(null).map(() => Frames.sync()),
      fc.constant(null).map(() => Frames.syncNotify()),
      fc
        .record({ message: str, fatal: fc.boolean(), processor: fc.option(str, { nil: undefined }) })
        .map(({ message, fatal, processor }) =>
          Frames.error(message, processor === undefined ? { fatal } : { fatal, processor }),
        ),
      fc
        .record({ ttfb: metricList, processing: metricList, tokens: metricList, characters: metricList })
        .map((m) => Frames.metrics(m)),
      fc
        .record({
          allowInterruptions: fc.boolean(),
          enableMetrics: fc.boolean(),
          enableUsageMetrics: fc.boolean(),
          reportOnlyInitialTtfb: fc.boolean(),
          audioInSampleRate: count,
          audioOutSampleRate: count,
        })
        .map((p) => Frames.start(p)),
      fc.tuple(appType, plainJson()).map(([t, d]) => Frames.app(t, d)),
    ),
    str,
  )
}
