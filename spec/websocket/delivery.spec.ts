/**
 * Delivery marks of the WebSocket transport: a frame is delivered once it was written to the socket, so the
 * interruption report of a session lists exactly what the client received — not the frames the session took from its
 * task but never wrote (a frame the wire format does not carry, the connection closing).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Frames, isInterruptionReport, type Frame, type InterruptionReportFrame, type ProcessorFn } from '../../lib/index.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
import { connect } from '../../lib/websocket/index.js'
import { playedAck, playedIds } from '../../lib/websocket/protocol.js'
import { closeAll, rawClient, sleep, startServer, waitFor } from './helpers.js'

afterEach(closeAll)

/**
 * Streams `<q>-0`, `<q>-1`, … for a question `q`, one every 3 ms until interrupted, each word followed by an app frame
 * (a viseme) — which the protobuf format does not carry.
 */
function talker(produced: Map<string, number>): ProcessorFn {
  return async function* talker(source, ctx) {
    for await (const f of source) {
      if (f.kind !== 'data' || f.type !== 'text') {
        yield f
        continue
      }
      const signal = ctx.signal
      for (let i = 0; i < 2000 && !signal.aborted; i++) {
        produced.set(f.text, (produced.get(f.text) ?? 0) + 2)
        yield Frames.text(`${f.text}-${i} `)
        yield Frames.app('viseme', i)
        await sleep(3)
      }
    }
  }
}

describe('WebSocket delivery marks', () => {
  it('the interruption report lists what was written to the socket: what the client received, and nothing the format could not carry', async () => {
    const reports: InterruptionReportFrame[] = []
    const produced = new Map<string, number>()
    const { server } = await startServer({
      session: () => ({
        processor: talker(produced),
        params: {
          onUpstream: (f: Frame) => {
            if (isInterruptionReport(f)) reports.push(f)
          },
        },
      }),
    })
    const pb = protobufSerializer()
    const ws = await rawClient(server.url)
    const received: Frame[] = []
    ws.on('message', (data: Buffer) => received.push(pb.deserialize(data)))
    ws.send(pb.serialize(Frames.text('a')))
    const texts = (): string[] => received.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))
    await waitFor(() => texts().length >= 5, 5000, 'five words')
    ws.send(pb.serialize(Frames.interruption()))
    await waitFor(() => reports.length === 1, 5000, 'the interruption report')
    const at = received.findIndex((f) => f.type === 'startInterruption')
    expect(at).toBeGreaterThan(0)
    const heard = received
      .slice(0, at)
      .flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))
      .join('')
    const report = reports[0]!.data
    expect(report.deliveredText).toBe(heard)
    // Every delivered frame is a word the client received: the visemes were taken from the task but never written.
    expect(report.delivered.every((d) => d.type === 'text')).toBe(true)
    expect(report.dropped.some((d) => d.type === 'viseme')).toBe(true)
    // Everything the interrupted turn produced is accounted for: each word and its viseme.
    expect(report.deliveredCount + report.droppedCount).toBe(produced.get('a'))
    ws.close()
  })

  it("delivery: 'played': only the frames the client reported played are delivered; the rest of the turn is dropped", async () => {
    const reports: InterruptionReportFrame[] = []
    const produced = new Map<string, number>()
    const { server } = await startServer({
      delivery: 'played',
      session: () => ({
        processor: talker(produced),
        params: {
          onUpstream: (f: Frame) => {
            if (isInterruptionReport(f)) reports.push(f)
          },
        },
      }),
    })
    const conn = await connect(server.url, { serializer: jsonSerializer() })
    const source = conn.source[Symbol.asyncIterator]()
    await conn.send(Frames.text('a'))
    const heard: string[] = []
    // The player is slower than the stream: it plays the first three words (and their visemes), then the user barges in.
    let words = 0
    while (words < 6) {
      const r = await source.next()
      if (r.done === true) throw new Error('closed early')
      const f = r.value
      if (f.kind === 'data' && f.type === 'text') {
        words++
        if (words <= 3) {
          heard.push(f.text)
          conn.played(f)
        }
      } else if (f.kind === 'app' && f.type === 'viseme' && words <= 3) conn.played([f])
    }
    conn.interrupt()
    await waitFor(() => reports.length === 1, 5000, 'the interruption report')
    const report = reports[0]!.data
    expect(report.deliveredText).toBe(heard.join(''))
    expect(report.delivered.map((d) => d.type)).toEqual(['text', 'viseme', 'text', 'viseme', 'text', 'viseme'])
    expect(report.deliveredCount + report.droppedCount).toBe(produced.get('a'))
    await conn.close()
  })

  it('playedIds accepts only well-formed acknowledgements; played() needs a format that carries app frames', async () => {
    expect(playedIds(playedAck([1, 2]))).toEqual([1, 2])
    expect(playedIds(Frames.app('playedFrames', { ids: [-1] }))).toBeUndefined()
    expect(playedIds(Frames.app('playedFrames', { ids: 'x' }))).toBeUndefined()
    expect(playedIds(Frames.app('playedFrames', null))).toBeUndefined()
    expect(playedIds(Frames.text('hi'))).toBeUndefined()
    const { server } = await startServer({ session: () => talker(new Map()) })
    const conn = await connect(server.url, { serializer: protobufSerializer() })
    expect(() => conn.played(Frames.text('x'))).toThrow(/app|played|carry|encode/i)
    await conn.close()
    await expect(startServer({ delivery: 'heard' as 'played', session: () => talker(new Map()) })).rejects.toThrow(TypeError)
  })
})
