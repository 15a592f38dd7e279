/**
 * The WebSocket transport end to end on loopback: sessions as tasks, both formats, the client duplex, `remote()`,
 * close codes for each way a session ends.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { FatalError, Frames, map, pipeline, run, type Frame, type Processor } from '../../lib/index.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
import { CloseCode, connect, remote, WebSocketClosedError } from '../../lib/websocket/index.js'
import { connect as browserConnect } from '../../lib/websocket/browser.js'
import { closeAll, closedWith, echo, rawClient, startServer, texts, waitFor } from './helpers.js'

afterEach(closeAll)

const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))

async function readAll(source: AsyncIterable<Frame>): Promise<Frame[]> {
  const out: Frame[] = []
  for await (const f of source) out.push(f)
  return out
}

describe('serve + connect', () => {
  it('JSON: the session starts, runs the input through the pipeline, drains at end and closes with 1000', async () => {
    const { server, sessions } = await startServer({ session: () => upper })
    const conn = await connect(server.url)
    expect(conn.format).toBe('json')
    void conn.sink([Frames.text('hello'), Frames.text('world')])
    const out = await readAll(conn.source)
    expect(out.map((f) => f.type)).toEqual(['start', 'text', 'text', 'end'])
    expect(texts(out)).toEqual(['HELLO', 'WORLD'])
    expect(await conn.closed).toEqual({ code: 1000, reason: 'ended' })
    const result = await sessions[0]?.done
    expect(result?.task?.status).toBe('ended')
    expect(sessions[0]?.info.format).toBe('json')
  })

  it('protobuf (no subprotocol, what Python clients send) is the default format', async () => {
    const { server, sessions } = await startServer({ session: () => upper })
    const conn = await connect(server.url, { serializer: protobufSerializer() })
    expect(conn.format).toBe('protobuf')
    const audio = Frames.audioRaw({ audio: new Uint8Array(640).fill(7) })
    await conn.sink([Frames.text('hi'), audio])
    const out: Frame[] = []
    for await (const f of conn.source) {
      out.push(f)
      if (out.length === 2) break
    }
    expect(texts(out)).toEqual(['HI'])
    const back = out[1]
    expect(back?.kind === 'data' && back.type === 'audioRaw' && back.audio.length === 640 && back.audio[0] === 7).toBe(true)
    await waitFor(() => sessions[0]?.task?.hasFinished() === true)
    expect(sessions[0]?.info.format).toBe('protobuf')
    // start and end are not carried by protobuf: counted, not sent
    expect(sessions[0]?.stats.skipped).toBeGreaterThanOrEqual(1)
  })

  it('the browser-safe client works in Node given a WebSocket constructor, and needs one otherwise', async () => {
    const { server } = await startServer({ session: () => upper })
    const { WebSocket } = await import('ws')
    const conn = await browserConnect(server.url, { WebSocket: WebSocket as never })
    void conn.sink([Frames.text('x')])
    expect(texts(await readAll(conn.source))).toEqual(['X'])
    if ((globalThis as { WebSocket?: unknown }).WebSocket === undefined) {
      await expect(browserConnect(server.url)).rejects.toThrow(/no global WebSocket/)
    }
  })

  it('the factory gets the connection info and sets the task parameters', async () => {
    const seen: string[] = []
    const { server } = await startServer({
      session: (info) => {
        seen.push(`${info.id} ${info.url} ${info.format} ${String(info.auth)}`)
        return { processor: echo, params: { enableMetrics: true, audioInSampleRate: 8000 } }
      },
    })
    const conn = await connect(`${server.url}/room?x=1`)
    void conn.sink([])
    const out = await readAll(conn.source)
    const start = out[0]
    expect(start?.kind === 'control' && start.type === 'start' && start.enableMetrics && start.audioInSampleRate === 8000 && start.allowInterruptions).toBe(true)
    expect(seen).toEqual(['1 /room?x=1 json true'])
  })

  it('a task that errors closes the connection with 1011 and the error', async () => {
    const failing: Processor = async function* (source) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text === 'boom') throw new FatalError('boom happened')
        yield f
      }
    }
    const { server, sessions } = await startServer({ session: () => failing })
    const conn = await connect(server.url)
    void conn.sink([Frames.text('boom')]).catch(() => {})
    await expect(readAll(conn.source)).rejects.toMatchObject({ name: 'WebSocketClosedError', code: CloseCode.internalError })
    const closed = await conn.closed
    expect(closed.reason).toMatch(/boom happened/)
    expect((await sessions[0]?.done)?.task?.status).toBe('errored')
  })

  it('a factory that throws closes with 1011 and reports the error', async () => {
    const errors: string[] = []
    const { server } = await startServer({
      session: () => {
        throw new Error('no model loaded')
      },
      onError: (e) => errors.push(e.message),
    })
    const ws = await rawClient(server.url)
    const { code, reason } = await closedWith(ws)
    expect(code).toBe(CloseCode.internalError)
    expect(reason).toMatch(/no model loaded/)
    expect(errors).toEqual(['no model loaded'])
  })

  it('cancel and stopTask frames from the client act on the task', async () => {
    const { server, sessions } = await startServer({ session: () => echo })
    const a = await connect(server.url)
    await a.send(Frames.cancel())
    expect((await a.closed).reason).toBe('cancelled')
    const b = await connect(server.url)
    await b.send(Frames.stopTask())
    expect((await b.closed).reason).toBe('stopped')
    expect((await sessions[0]?.done)?.task?.status).toBe('cancelled')
    expect((await sessions[1]?.done)?.task?.status).toBe('stopped')
  })

  it('an unknown subprotocol is not accepted: the client refuses the connection', async () => {
    const { server } = await startServer({ session: () => echo, serializers: [protobufSerializer()] })
    await expect(connect(server.url, { serializer: jsonSerializer() })).rejects.toBeInstanceOf(WebSocketClosedError)
  })

  it('a refused connection rejects connect with a WebSocketClosedError', async () => {
    const { server } = await startServer({ session: () => echo })
    const url = server.url
    await server.close()
    await expect(connect(url, { openTimeoutMs: 5000 })).rejects.toBeInstanceOf(WebSocketClosedError)
  })
})

describe('remote()', () => {
  it('runs a local pipeline through a remote one: start first, end last after all remote output, order kept', async () => {
    const { server, sessions } = await startServer({ session: () => upper })
    const exclaim = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`${f.text}!`) : f))
    const input = Array.from({ length: 200 }, (_, i) => Frames.text(`w${i}`))
    const out: Frame[] = []
    for await (const f of run(pipeline(remote(server.url), exclaim), input)) out.push(f)
    expect(out[0]?.type).toBe('start')
    expect(out.at(-1)?.type).toBe('end')
    expect(texts(out)).toEqual(input.map((_, i) => `W${i}!`))
    expect((await sessions[0]?.done)?.task?.status).toBe('ended')
  })

  it('cancelling the local run cancels the remote session', async () => {
    const never: Processor = async function* (source) {
      for await (const f of source) if (f.type === 'start') yield f
    }
    const { server, sessions } = await startServer({ session: () => never })
    const abort = new AbortController()
    const endless = (async function* () {
      yield Frames.text('a')
      await new Promise(() => {})
    })()
    const handle = run(pipeline(remote(server.url)), endless, { signal: abort.signal })
    const consumed = (async () => {
      for await (const _ of handle) {
        // wait for the session to exist
      }
    })().catch(() => {})
    await waitFor(() => sessions.length === 1)
    abort.abort()
    await consumed
    expect((await handle.result).status).toBe('cancelled')
    expect((await sessions[0]?.done)?.task?.status).toBe('cancelled')
  })

  it('refuses a format that cannot carry end', () => {
    expect(() => remote('ws://127.0.0.1:1', { serializer: protobufSerializer() })).toThrow(TypeError)
  })

  it('a remote session that closes early is a fatal error of the local run', async () => {
    const { server } = await startServer({ session: () => echo })
    const handle = run(pipeline(remote(server.url)), (async function* () {
      yield Frames.text('a')
      await new Promise((resolve) => setTimeout(resolve, 50))
      for (const s of server.sessions) void s.task?.cancel()
      await new Promise((resolve) => setTimeout(resolve, 2000))
      yield Frames.text('b')
    })())
    const out: Frame[] = []
    await expect((async () => {
      for await (const f of handle) out.push(f)
    })()).rejects.toThrow(/closed before its end/)
    expect((await handle.result).status).toBe('errored')
  })
})
