/**
 * Reliability: abrupt disconnects, server shutdown with sessions in flight, reconnects, and 10^4 frames each way
 * with none lost or reordered.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Frames, pipeline, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
import { CloseCode, connect } from '../../lib/websocket/index.js'
import { closeAll, echo, probe, rawClient, startServer, texts, waitFor } from './helpers.js'

afterEach(closeAll)

/** Streams numbered text frames until cancelled, honouring ctx.signal. */
const ticker: ProcessorFn = async function* ticker(source, ctx) {
  for await (const f of source) {
    yield f
    if (f.kind === 'data' && f.type === 'text' && f.text === 'go') {
      for (let i = 0; !ctx.signal.aborted; i++) {
        yield Frames.text(`t${i}`)
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }
  }
}

describe('disconnects', () => {
  it('a client that vanishes mid-stream (TCP reset, no close frame): the task is cancelled, every stage finalized, nothing unhandled', async () => {
    const log = { seen: [] as Frame[], finalized: 0 }
    const { server, sessions } = await startServer({ session: () => pipeline(probe(log), ticker, probe(log)) })
    const ws = await rawClient(server.url, 'apipeline.json')
    let got = 0
    ws.on('message', () => got++)
    ws.send(jsonSerializer().serialize(Frames.text('go')))
    await waitFor(() => got > 20, 5000, 'streamed output')
    ws.terminate()
    const result = await sessions[0]?.done
    expect(result?.code).toBe(CloseCode.abnormal)
    expect(result?.task?.status).toBe('cancelled')
    expect(log.finalized).toBe(2)
  })

  it('a client that reconnects gets a new session; the old one is cleaned up', async () => {
    const log = { seen: [] as Frame[], finalized: 0 }
    const { server, sessions } = await startServer({ session: () => pipeline(probe(log)) })
    const first = await connect(server.url)
    await first.send(Frames.text('one'))
    await waitFor(() => log.seen.some((f) => f.kind === 'data' && f.type === 'text' && f.text === 'one'))
    // the network drops: no close handshake from this side
    ;(first as unknown as { socket: { terminate(): void } }).socket.terminate()
    const second = await connect(server.url)
    void second.sink([Frames.text('two')])
    const out: Frame[] = []
    for await (const f of second.source) out.push(f)
    expect(texts(out)).toEqual(['two'])
    const [old, fresh] = await Promise.all([sessions[0]?.done, sessions[1]?.done])
    expect(old?.task?.status).toBe('cancelled')
    expect(fresh?.task?.status).toBe('ended')
    expect(sessions[0]?.id).not.toBe(sessions[1]?.id)
    expect(log.finalized).toBe(2)
    expect(server.sessions.size).toBe(0)
  })
})

describe('server.close()', () => {
  it('ends every session: in-flight work drains (end is sent), a stuck one is cancelled after the deadline; 1001 for all', async () => {
    const slowEcho: Processor = async function* (source) {
      for await (const f of source) {
        if (f.kind === 'data') await new Promise((resolve) => setTimeout(resolve, 20))
        yield f
      }
    }
    const stuck: Processor = async function* (source) {
      for await (const f of source) {
        yield f
        if (f.kind === 'data') await new Promise(() => {})
      }
    }
    const { server } = await startServer({ session: (info) => (info.url.includes('stuck') ? stuck : slowEcho) })
    const a = await connect(server.url)
    const b = await connect(`${server.url}/stuck`)
    for (let i = 0; i < 5; i++) await a.send(Frames.text(`a${i}`))
    await b.send(Frames.text('b0'))
    const outA: Frame[] = []
    const readA = (async () => {
      for await (const f of a.source) outA.push(f)
    })()
    const readB = (async () => {
      for await (const _ of b.source) {
        // drain
      }
    })()
    await waitFor(() => [...server.sessions].reduce((n, s) => n + s.stats.received, 0) === 6, 5000, 'frames at the server')
    const t0 = Date.now()
    const results = await server.close({ drainTimeoutMs: 300 })
    await Promise.all([readA, readB])
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(texts(outA)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4'])
    expect(outA.at(-1)?.type).toBe('end')
    expect(results.map((r) => r.code)).toEqual([CloseCode.goingAway, CloseCode.goingAway])
    expect(results.map((r) => r.task?.status).sort()).toEqual(['cancelled', 'ended'])
    expect((await a.closed).code).toBe(CloseCode.goingAway)
    await expect(connect(server.url, { openTimeoutMs: 2000 })).rejects.toThrow()
  })
})

describe('volume', () => {
  for (const serializer of [jsonSerializer(), protobufSerializer()]) {
    it(`${serializer.format}: 10^4 frames each way, none lost or reordered`, async () => {
      const { server, sessions } = await startServer({ session: () => echo })
      const conn = await connect(server.url, { serializer })
      const n = 10_000
      const sending = (async () => {
        for (let i = 0; i < n; i++) await conn.send(Frames.text(String(i)))
        if (serializer.format === 'json') await conn.send(Frames.end())
      })()
      const got: string[] = []
      for await (const f of conn.source) {
        if (f.kind === 'data' && f.type === 'text') got.push(f.text)
        if (got.length === n) break
      }
      await sending
      expect(got).toEqual(Array.from({ length: n }, (_, i) => String(i)))
      await sessions[0]?.done
      expect(sessions[0]?.stats.received).toBe(serializer.format === 'json' ? n + 1 : n)
    })
  }
})

describe('client side', () => {
  it('a server that drops the connection mid-stream ends the client source with a WebSocketClosedError, nothing unhandled', async () => {
    const { server, sessions } = await startServer({ session: () => echo })
    const conn = await connect(server.url)
    await conn.send(Frames.text('a'))
    await waitFor(() => sessions[0]?.stats.received === 1)
    const reading = (async () => {
      for await (const _ of conn.source) {
        // until the connection drops
      }
    })()
    // The server process's socket is destroyed under the connection (like a crash): no close frame.
    for (const s of server.sessions) (s as unknown as { ws: { terminate(): void } }).ws.terminate()
    await expect(reading).rejects.toMatchObject({ name: 'WebSocketClosedError', code: CloseCode.abnormal })
    await expect(conn.send(Frames.text('b'))).rejects.toMatchObject({ name: 'WebSocketClosedError' })
  })
})

describe('client side, protocol errors', () => {
  it('a server that breaks the WebSocket protocol fails the source with a WebSocketClosedError, nothing uncaught', async () => {
    const { WebSocketServer } = await import('ws')
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => [...p][0] ?? false })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    wss.on('connection', (ws) => {
      // A frame with the reserved opcode 3.
      ;(ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x83, 0x00]))
    })
    try {
      const { port } = wss.address() as { port: number }
      const conn = await connect(`ws://127.0.0.1:${port}`)
      await expect((async () => {
        for await (const _ of conn.source) {
          // until the protocol error
        }
      })()).rejects.toMatchObject({ name: 'WebSocketClosedError' })
    } finally {
      for (const c of wss.clients) c.terminate()
      await new Promise((resolve) => wss.close(resolve))
    }
  })
})
