/**
 * Delivery marks of the WebSocket transport: a frame is delivered once it was written to the socket, so the
 * interruption report of a session lists exactly what the client received — not the frames the session took from its
 * task but never wrote (a frame the wire format does not carry, the connection closing).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Frames, isInterruptionReport, type Frame, type InterruptionReportFrame, type ProcessorFn } from '../../lib/index.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
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
})
