/**
 * Interoperability with an independent protobuf implementation: Debian's `protoc` (package protobuf-compiler)
 * encodes text-format messages with `--encode` and decodes our bytes with `--decode`.
 *
 * In CI (`process.env.CI` set) a missing protoc fails the suite; elsewhere it is skipped with the reason.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Frame } from '../../lib/frames/types.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
import { arbProtobufFrame } from './arb.js'
import { fromHex, GOLDEN, toHex } from './golden.js'

const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url))
const PROTOC = process.env['PROTOC'] ?? 'protoc'
const MESSAGE = 'pipeline_frames.Frame'
const ser = protobufSerializer()

function protocVersion(): string | undefined {
  const r = spawnSync(PROTOC, ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

function protoc(mode: '--encode' | '--decode', input: Uint8Array | string): Buffer {
  const r = spawnSync(PROTOC, [`${mode}=${MESSAGE}`, `--proto_path=${PROTO_DIR}`, 'frames.proto'], {
    input,
    maxBuffer: 64 * 1024 * 1024,
  })
  if (r.error !== undefined) throw r.error
  if (r.status !== 0) throw new Error(`protoc ${mode} failed (${r.status}): ${r.stderr.toString()}`)
  return r.stdout
}

/** A text-format string literal: printable ASCII as is, every other UTF-8 byte as an octal escape. */
function quote(value: string | Uint8Array): string {
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value
  let out = '"'
  for (const b of bytes) {
    if (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c) out += String.fromCharCode(b)
    else out += `\\${b.toString(8).padStart(3, '0')}`
  }
  return `${out}"`
}

/** Every field written, zero values included: protoc must leave the zero ones out itself (proto3 implicit presence). */
function textFormat(frame: Frame): string {
  if (frame.kind === 'app') throw new Error('not a protobuf frame')
  const head = `id: ${frame.id} name: ${quote(frame.name)}`
  switch (frame.type) {
    case 'text':
      return `text { ${head} text: ${quote(frame.text)} }`
    case 'audioRaw':
      return `audio { ${head} audio: ${quote(frame.audio)} sample_rate: ${frame.sampleRate} num_channels: ${frame.numChannels} sample_width: ${frame.sampleWidth} }`
    case 'imageRaw':
      return `image { ${head} image: ${quote(frame.image)} size: ${quote(`${frame.size[0]}x${frame.size[1]}`)} format: ${quote(frame.format ?? '')} mode: ${quote(frame.mode ?? '')} }`
    case 'interruption':
      return `interruption { ${head} }`
    case 'startInterruption':
      return `start_interruption { ${head} }`
    case 'stopInterruption':
      return `stop_interruption { ${head} }`
    default:
      throw new Error(`not a protobuf frame: ${frame.type}`)
  }
}

function expectedAfterProtobuf(frame: Frame): Frame {
  if (frame.kind === 'data' && frame.type === 'imageRaw') {
    return { ...frame, format: frame.format === '' ? null : frame.format, mode: frame.mode === '' ? null : frame.mode }
  }
  return frame
}

/** Runs `protoc --decode`; true when protoc parsed the bytes. */
function protocAccepts(bytes: Uint8Array): boolean {
  const r = spawnSync(PROTOC, [`--decode=${MESSAGE}`, `--proto_path=${PROTO_DIR}`, 'frames.proto'], { input: bytes })
  if (r.error !== undefined) throw r.error
  return r.status === 0
}

/** A varint written with `extra` more bytes than it needs (a valid, overlong encoding). */
function paddedVarint(value: bigint, extra: number): number[] {
  const out: number[] = []
  let v = value
  do {
    out.push(Number(v & 0x7fn))
    v >>= 7n
  } while (v > 0n)
  for (let i = 0; i < extra; i++) out.push(0)
  return out.map((b, i) => (i < out.length - 1 ? b | 0x80 : b))
}

/**
 * Re-encodes a message of the schema (a `Frame` holding one frame message) with every tag, length prefix and varint
 * value padded by the next count of `pads` (cycled).
 */
function reencode(bytes: Uint8Array, pads: readonly number[]): Uint8Array {
  let n = 0
  const pad = (): number => pads[n++ % pads.length] as number
  const readVarint = (buf: Uint8Array, at: { pos: number }): bigint => {
    let value = 0n
    let shift = 0n
    for (;;) {
      const b = buf[at.pos++] as number
      value |= BigInt(b & 0x7f) << shift
      shift += 7n
      if (b < 0x80) return value
    }
  }
  const fields = (buf: Uint8Array, nested: boolean): number[] => {
    const out: number[] = []
    const at = { pos: 0 }
    while (at.pos < buf.length) {
      const tag = readVarint(buf, at)
      out.push(...paddedVarint(tag, pad()))
      if ((tag & 7n) === 0n) {
        out.push(...paddedVarint(readVarint(buf, at), pad()))
        continue
      }
      const len = Number(readVarint(buf, at))
      const body = buf.subarray(at.pos, at.pos + len)
      at.pos += len
      const inner = nested ? Array.from(body) : fields(body, true)
      out.push(...paddedVarint(BigInt(inner.length), pad()), ...inner)
    }
    return out
  }
  return Uint8Array.from(fields(bytes, false))
}

const version = protocVersion()
const inCI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false'

describe('protoc interoperability', () => {
  if (version === undefined) {
    if (inCI) {
      it('needs protoc', () => {
        throw new Error(
          `protoc not found (tried ${JSON.stringify(PROTOC)}): CI must install it (apt-get install -y protobuf-compiler) or set PROTOC`,
        )
      })
    } else {
      it.skip(`skipped: protoc not found (tried ${JSON.stringify(PROTOC)}); install protobuf-compiler — required in CI`, () => {})
    }
    return
  }

  it(`runs against ${version}`, () => {
    expect(version).toMatch(/^libprotoc \d+\.\d+/)
  })

  for (const g of GOLDEN) {
    it(`protoc --encode of ${g.label} gives the golden bytes, which we decode`, () => {
      const bytes = protoc('--encode', textFormat(g.make()))
      expect(toHex(bytes)).toBe(g.hex)
      expect(ser.deserialize(bytes)).toEqual(g.make())
    })
  }

  it('protoc --decode reads our golden encodings field by field', () => {
    const text = protoc('--decode', ser.serialize(GOLDEN[0]!.make())).toString('utf8')
    expect(text).toMatch(/^text \{\n\s+id: 1\n\s+name: "TextFrame#0"\n\s+text: "hello world"\n\}/)
    const audio = protoc('--decode', ser.serialize(GOLDEN[1]!.make())).toString('utf8')
    expect(audio).toContain('sample_rate: 16000')
    expect(audio).toContain('num_channels: 1')
    expect(audio).toContain('sample_width: 2')
    const image = protoc('--decode', ser.serialize(GOLDEN[2]!.make())).toString('utf8')
    expect(image).toContain('size: "1920x1080"')
    expect(image).toContain('format: "jpeg"')
    const empty = protoc('--decode', fromHex(GOLDEN[6]!.hex)).toString('utf8')
    expect(empty).not.toContain('text: ')
  })

  it('protoc --encode of random frames gives exactly our bytes, and we decode them', () => {
    fc.assert(
      fc.property(arbProtobufFrame(), (frame) => {
        const theirs = protoc('--encode', textFormat(frame))
        expect(toHex(ser.serialize(frame))).toBe(toHex(theirs))
        expect(ser.deserialize(theirs)).toEqual(expectedAfterProtobuf(frame))
      }),
      { numRuns: 40 },
    )
  })

  it('overlong varints: protoc accepts exactly the encodings we accept (tags and lengths up to 5 bytes, values up to 10)', () => {
    let refused = 0
    let accepted = 0
    fc.assert(
      fc.property(
        arbProtobufFrame(),
        fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9 }) }), { minLength: 1, maxLength: 12 }),
        (frame, pads) => {
          const bytes = reencode(ser.serialize(frame), pads)
          const theirs = protocAccepts(bytes)
          let ours: Frame | undefined
          try {
            ours = ser.deserialize(bytes)
          } catch (err) {
            expect((err as Error).name).toBe('FrameDecodeError')
          }
          expect({ ours: ours !== undefined, protoc: theirs, hex: toHex(bytes) }).toEqual({ ours: theirs, protoc: theirs, hex: toHex(bytes) })
          if (ours !== undefined) expect(ours).toEqual(expectedAfterProtobuf(frame))
          if (theirs) accepted++
          else refused++
        },
      ),
      { numRuns: 30 },
    )
    // Both sides of the boundary were exercised.
    expect(accepted).toBeGreaterThan(5)
    expect(refused).toBeGreaterThan(5)
  })

  it('protoc refuses the overlong length prefix of the reliability report, and so do we', () => {
    const bytes = fromHex('0a808080808000')
    expect(protocAccepts(bytes)).toBe(false)
    expect(() => ser.deserialize(bytes)).toThrow(/longer than 5 bytes/)
    // One byte shorter is still accepted by both.
    expect(protocAccepts(fromHex('0a8080808000'))).toBe(true)
    expect(ser.deserialize(fromHex('0a8080808000'))).toMatchObject({ type: 'text', text: '' })
  })

  it('protoc --decode accepts our bytes for random frames and re-encodes them identically', () => {
    fc.assert(
      fc.property(arbProtobufFrame(), (frame) => {
        const ours = ser.serialize(frame)
        const text = protoc('--decode', ours)
        expect(toHex(protoc('--encode', text))).toBe(toHex(ours))
      }),
      { numRuns: 40 },
    )
  })
})
