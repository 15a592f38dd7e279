/**
 * B6: wire formats. Encode + decode throughput of 640-byte audio frames (20 ms of 16 kHz mono PCM), in MB/s of
 * audio payload, for the protobuf and JSON serializers; the protobuf encoder is also compared with @bufbuild's
 * generic `create` + `toBinary`.
 *
 * Protobuf encode copies the audio once (into an exact-size output buffer); protobuf decode copies nothing (the frame's
 * audio is a view into the message). JSON encode/decode go through base64 (Node's Buffer codec).
 *
 * Size: `BENCH_WIRE_FRAMES` (default 50,000), rounds: `BENCH_REPS` (default 3). Runs standalone:
 * `npx tsx bench/wire.ts`.
 */
import { pathToFileURL } from 'node:url'
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import * as Frames from '../lib/frames/index.js'
import type { AudioRawFrame, Frame } from '../lib/frames/types.js'
import { AudioRawFrameSchema, FrameSchema } from '../lib/wire/gen/frames_pb.js'
import { jsonSerializer } from '../lib/wire/json.js'
import { protobufSerializer } from '../lib/wire/protobuf.js'
import { formatTable, timeSideBySide, type BenchRow } from './harness.js'

const AUDIO_BYTES = 640

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name])
  return Number.isInteger(v) && v > 0 ? v : fallback
}

function check(label: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${label}: ${got} audio bytes decoded, expected ${want}`)
}

/** B6: encode and decode N audio frames with each serializer. */
export async function bench(): Promise<BenchRow[]> {
  const n = envInt('BENCH_WIRE_FRAMES', 50_000)
  const reps = envInt('BENCH_REPS', 3)
  const pool = Array.from({ length: 64 }, (_, i) => new Uint8Array(AUDIO_BYTES).fill(i))
  const frames: AudioRawFrame[] = Array.from({ length: n }, (_, i) => Frames.audioRaw({ audio: pool[i % pool.length]! }))
  const pb = protobufSerializer()
  const json = jsonSerializer()
  const pbMessages = frames.map((f) => pb.serialize(f))
  const jsonMessages = frames.map((f) => json.serialize(f))
  const total = n * AUDIO_BYTES

  const audioLength = (f: Frame): number => (f.kind === 'data' && f.type === 'audioRaw' ? f.audio.length : 0)

  const REF = '@bufbuild create + toBinary + fromBinary (reference)'
  const variants: Record<string, () => void> = {
    [REF]: () => {
      let sum = 0
      for (const f of frames) {
        const msg = create(FrameSchema, {
          frame: {
            case: 'audio',
            value: create(AudioRawFrameSchema, {
              id: BigInt(f.id),
              name: f.name,
              audio: f.audio,
              sampleRate: f.sampleRate,
              numChannels: f.numChannels,
              sampleWidth: f.sampleWidth,
            }),
          },
        })
        const back = fromBinary(FrameSchema, toBinary(FrameSchema, msg))
        if (back.frame.case === 'audio') sum += back.frame.value.audio.length
      }
      check(REF, sum, total)
    },
    'protobuf encode + decode': () => {
      let sum = 0
      for (const f of frames) sum += audioLength(pb.deserialize(pb.serialize(f)))
      check('protobuf', sum, total)
    },
    'protobuf encode': () => {
      let sum = 0
      for (const f of frames) sum += pb.serialize(f).length
      if (sum <= total) throw new Error('protobuf encode: output too small')
    },
    'protobuf decode': () => {
      let sum = 0
      for (const m of pbMessages) sum += audioLength(pb.deserialize(m))
      check('protobuf decode', sum, total)
    },
    'json encode + decode': () => {
      let sum = 0
      for (const f of frames) sum += audioLength(json.deserialize(json.serialize(f)))
      check('json', sum, total)
    },
    'json encode': () => {
      let sum = 0
      for (const f of frames) sum += json.serialize(f).length
      if (sum <= total) throw new Error('json encode: output too small')
    },
    'json decode': () => {
      let sum = 0
      for (const m of jsonMessages) sum += audioLength(json.deserialize(m))
      check('json decode', sum, total)
    },
  }
  const times = await timeSideBySide(variants, reps)
  const messageSize: Record<string, string> = {
    protobuf: `${pbMessages[0]!.length} B/message`,
    json: `${jsonMessages[0]!.length} B/message`,
  }
  return Object.entries(times).map(([variant, ms]) => {
    const mbs = total / 1e6 / (ms / 1000)
    const size = variant.startsWith('json') ? messageSize['json'] : messageSize['protobuf']
    const row: BenchRow = {
      bench: 'B6',
      variant,
      frames: n,
      ms,
      note: `${mbs.toFixed(0)} MB/s of audio (640 B frames), ${size}`,
    }
    return variant === REF ? row : { ...row, baseline: REF }
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
