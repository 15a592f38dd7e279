/**
 * Wire formats at the edges of a pipeline: the output of a small pipeline is serialized to protobuf (the bytes a
 * Python apipeline client reads), decoded back, and the same frames are written in apipeline's JSON format.
 *
 * Run: npx tsx examples/wire.ts
 */
import { deserializeFrames, FrameDecodeError, Frames, jsonSerializer, map, pipeline, protobufSerializer, run, serializeFrames, type Frame } from '../lib/index.js'

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

// A pipeline that upper-cases text and passes everything else.
const shout = map((f: Frame) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
const input = [
  Frames.text('hello world'),
  Frames.audioRaw({ audio: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]) }),
  Frames.app('transcript', { text: 'hi', final: true }),
]

// 1. protobuf: start, end and the app frame are not in the Python schema — skip them, but say so.
const pb = protobufSerializer()
const messages: Uint8Array[] = []
const toProtobuf = serializeFrames(pb, { onError: (err) => console.log(`  not sent over protobuf: ${err.message}`) })
console.log('protobuf, out:')
for await (const bytes of toProtobuf(run(pipeline(shout), input))) {
  messages.push(bytes)
  console.log(`  ${bytes.length} bytes  ${hex(bytes)}`)
}
console.log('protobuf, back in:')
for await (const frame of deserializeFrames(pb)(messages)) console.log(`  ${Frames.format(frame)}`)

// 2. JSON: every frame, lossless, app frames included.
const json = jsonSerializer()
console.log('JSON, out:')
for await (const text of serializeFrames(json)(run(pipeline(shout), input))) console.log(`  ${text}`)

// 3. Bad input is a typed error, never a crash.
for (const bad of [Uint8Array.from([0x0a, 0x05, 0x08]), Uint8Array.from([0x0a, 0x02, 0x18, 0x05])]) {
  try {
    pb.deserialize(bad)
  } catch (err) {
    if (err instanceof FrameDecodeError) console.log(`refused ${hex(bad)}: ${err.message}`)
    else throw err
  }
}
