import { describe, expect, it } from 'vitest'
import { pipeline } from '../../lib/core/pipeline.js'
import { run } from '../../lib/core/run.js'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { map } from '../../lib/operators/map.js'
import { FrameDecodeError, FrameEncodeError } from '../../lib/wire/errors.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { deserializeFrames, serializeFrames } from '../../lib/wire/processors.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
import type { WireInput } from '../../lib/wire/serializer.js'

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

const upper = map((f: Frame) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))

describe('serializeFrames / deserializeFrames at the edges of a pipeline', () => {
  it('protobuf: a pipeline’s output serialized and decoded back gives the same frames (start and end skipped on purpose)', async () => {
    const pb = protobufSerializer()
    const audio = Frames.audioRaw({ audio: new Uint8Array(640).fill(3) })
    const output: Frame[] = []
    const skipped: string[] = []
    const tee = async function* (source: AsyncIterable<Frame>) {
      for await (const f of source) {
        output.push(f)
        yield f
      }
    }
    const bytes = await collect(
      serializeFrames(pb, { onError: (err, frame) => skipped.push(`${frame.type}:${err.frameType}`) })(
        tee(run(pipeline(upper), [Frames.text('hi'), audio, Frames.interruption()])),
      ),
    )
    const back = await collect(deserializeFrames(pb)(bytes))
    expect(back).toEqual(output.filter((f) => pb.supports(f)))
    expect(back.map((f) => f.type).sort()).toEqual(['audioRaw', 'interruption', 'text']) // system frames may overtake
    expect(skipped).toEqual(['start:start', 'end:end'])
  })

  it('JSON: messages in → run → messages out, every frame kept', async () => {
    const ser = jsonSerializer()
    const incoming = [Frames.text('a'), Frames.app('note', { n: 1 }), Frames.text('b')].map((f) => ser.serialize(f))
    const out = await collect(serializeFrames(ser)(run(pipeline(upper), deserializeFrames(ser)(incoming))))
    const frames = out.map((m) => ser.deserialize(m))
    expect(frames.map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))).toEqual(['start', 'A', 'note', 'B', 'end'])
  })

  it('throws the FrameEncodeError by default', async () => {
    await expect(collect(serializeFrames(protobufSerializer())([Frames.text('x'), Frames.end()]))).rejects.toBeInstanceOf(FrameEncodeError)
  })

  it("drops failed frames with onError 'skip'", async () => {
    const out = await collect(serializeFrames(protobufSerializer(), { onError: 'skip' })([Frames.end(), Frames.text('x')]))
    expect(out).toHaveLength(1)
  })

  it('throws the FrameDecodeError by default, skips or reports it on request', async () => {
    const ser = jsonSerializer()
    const input: WireInput[] = [ser.serialize(Frames.text('a')), '{bad', ser.serialize(Frames.text('b'))]
    await expect(collect(deserializeFrames(ser)(input))).rejects.toBeInstanceOf(FrameDecodeError)
    expect((await collect(deserializeFrames(ser, { onError: 'skip' })(input))).length).toBe(2)
    const seen: unknown[] = []
    const frames = await collect(deserializeFrames(ser, { onError: (err, data) => seen.push([err.format, data]) })(input))
    expect(frames.map((f) => (f as { text: string }).text)).toEqual(['a', 'b'])
    expect(seen).toEqual([['json', '{bad']])
  })

  it('a throwing onError ends the stream with that error', async () => {
    const boom = new Error('stop')
    const onError = (): void => {
      throw boom
    }
    await expect(collect(deserializeFrames(jsonSerializer(), { onError })(['x']))).rejects.toBe(boom)
  })

  it('closes the source when the consumer stops early', async () => {
    let closed = false
    async function* source() {
      try {
        for (let i = 0; ; i++) yield Frames.text(String(i))
      } finally {
        closed = true
      }
    }
    for await (const _ of serializeFrames(jsonSerializer())(source())) break
    expect(closed).toBe(true)
  })

  it('checks its arguments', () => {
    expect(() => serializeFrames({} as never)).toThrow(TypeError)
    expect(() => deserializeFrames(jsonSerializer(), { onError: 'ignore' as never })).toThrow(TypeError)
  })
})
