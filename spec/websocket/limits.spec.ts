/**
 * Limits and safety: undecodable and oversized messages, authentication, origins, the session limit and the
 * heartbeat that cuts off a silent client.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Frames, pipeline, type Frame, type Processor } from '../../lib/index.js'
import { FrameDecodeError } from '../../lib/wire/errors.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { CloseCode, connect, WebSocketClosedError } from '../../lib/websocket/index.js'
import { closeAll, closedWith, echo, probe, rawClient, startServer, texts, waitFor } from './helpers.js'

afterEach(closeAll)

const json = jsonSerializer()

describe('bad input', () => {
  it('a message that does not decode is a typed error reported to the session; the session goes on', async () => {
    const upstream: Frame[] = []
    const errors: Error[] = []
    const { server, sessions } = await startServer({
      session: () => ({ processor: echo, params: { onUpstream: (f) => upstream.push(f) } }),
      onError: (e) => errors.push(e),
    })
    const ws = await rawClient(server.url, 'apipeline.json')
    const received: Frame[] = []
    ws.on('message', (data) => received.push(json.deserialize(data as Buffer)))
    ws.send('{"kind":"data","type":"text"')
    ws.send(Buffer.from([0xff, 0xfe]))
    ws.send('{"kind":"data","type":"text","id":1,"name":"T","text":"ok","__proto__":{}}')
    ws.send(json.serialize(Frames.text('still here')))
    ws.send(json.serialize(Frames.end()))
    await closedWith(ws)
    expect(texts(received)).toEqual(['still here'])
    expect(errors).toHaveLength(3)
    for (const e of errors) expect(e).toBeInstanceOf(FrameDecodeError)
    const reported = upstream.filter((f) => f.kind === 'system' && f.type === 'error')
    expect(reported).toHaveLength(3)
    const result = await sessions[0]?.done
    expect(result?.code).toBe(1000)
    expect(result?.task?.status).toBe('ended')
    expect(result?.task?.errors.map((e) => e.error)).toEqual([expect.stringMatching(/message 1 .*does not decode/), expect.stringMatching(/message 2/), expect.stringMatching(/message 3/)])
    expect(sessions[0]?.stats.decodeErrors).toBe(3)
  })

  it('more undecodable messages than maxDecodeErrors close the connection with 1007 and cancel the task', async () => {
    const log = { seen: [] as Frame[], finalized: 0 }
    const { server, sessions } = await startServer({ session: () => pipeline(probe(log)), maxDecodeErrors: 2 })
    const ws = await rawClient(server.url)
    for (let i = 0; i < 5; i++) ws.send(Buffer.from([0x0a, 0x05, 1]))
    const { code } = await closedWith(ws)
    expect(code).toBe(CloseCode.invalidPayload)
    const result = await sessions[0]?.done
    expect(result?.task?.status).toBe('cancelled')
    expect(sessions[0]?.stats.decodeErrors).toBe(3)
    expect(log.finalized).toBe(1)
  })

  it('a message above maxPayload closes the connection with 1009', async () => {
    const { server, sessions } = await startServer({ session: () => echo, maxPayload: 1024 })
    const ws = await rawClient(server.url)
    ws.send(Buffer.alloc(4096))
    const { code } = await closedWith(ws)
    expect(code).toBe(CloseCode.tooBig)
    expect((await sessions[0]?.done)?.task?.status).toBe('cancelled')
  })
})

describe('admission', () => {
  it('authenticate: false or a throw refuses the upgrade with 401; its value reaches the factory', async () => {
    const auths: unknown[] = []
    const errors: string[] = []
    const { server, sessions } = await startServer({
      session: (info) => {
        auths.push(info.auth)
        return echo
      },
      authenticate: async (req) => {
        const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token')
        if (token === 'throw') throw new Error('auth backend down')
        return token === 'good' ? { user: 'ada' } : false
      },
      onError: (e) => errors.push(e.message),
    })
    await expect(connect(`${server.url}/?token=bad`)).rejects.toBeInstanceOf(WebSocketClosedError)
    await expect(connect(`${server.url}/?token=throw`)).rejects.toBeInstanceOf(WebSocketClosedError)
    const refused = await new Promise<number>((resolve) => {
      import('node:http').then(({ get }) => {
        const req = get(`${server.url.replace('ws:', 'http:')}/?token=bad`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
        req.on('response', (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', () => resolve(-1))
      })
    })
    expect(refused).toBe(401)
    expect(sessions).toHaveLength(0)
    const conn = await connect(`${server.url}/?token=good`)
    void conn.sink([])
    for await (const _ of conn.source) {
      // drain
    }
    expect(auths).toEqual([{ user: 'ada' }])
    expect(errors).toEqual(['auth backend down'])
  })

  it('origins: a browser origin not listed is refused with 403; listed ones and non-browser clients pass', async () => {
    const { server } = await startServer({ session: () => echo, origins: ['https://app.example'] })
    await expect(rawClient(server.url, undefined, { origin: 'https://evil.example' })).rejects.toThrow(/403/)
    const ok = await rawClient(server.url, undefined, { origin: 'https://app.example' })
    ok.close()
    const noOrigin = await rawClient(server.url)
    noOrigin.close()
  })

  it('an origins predicate or onSession hook that throws refuses or reports; the server goes on', async () => {
    const errors: string[] = []
    const { server } = await startServer({
      session: () => echo,
      origins: (origin) => {
        if (origin.includes('bad')) throw new Error('origin check failed')
        return true
      },
      onSession: () => {
        throw new Error('hook failed')
      },
      onError: (e) => errors.push(e.message),
    })
    await expect(rawClient(server.url, undefined, { origin: 'https://bad.example' })).rejects.toThrow(/403/)
    const ok = await rawClient(server.url, undefined, { origin: 'https://good.example' })
    ok.close()
    await closedWith(ok)
    expect(errors).toEqual(['origin check failed', 'hook failed'])
  })

  it('authenticate may return any thenable', async () => {
    const { server } = await startServer({
      session: () => echo,
      authenticate: () => ({ then: (resolve: (v: unknown) => void) => resolve(false) }),
    })
    await expect(rawClient(server.url)).rejects.toThrow(/401/)
  })

  it('maxSessions: one connection too many is closed with 1013; a slot frees when a session ends', async () => {
    const { server, sessions } = await startServer({ session: () => echo, maxSessions: 2 })
    const a = await rawClient(server.url)
    const b = await rawClient(server.url)
    await waitFor(() => sessions.length === 2)
    const c = await rawClient(server.url)
    expect((await closedWith(c)).code).toBe(CloseCode.tryAgainLater)
    a.close()
    await sessions[0]?.done
    const d = await rawClient(server.url)
    await waitFor(() => sessions.length === 3)
    expect(server.sessions.size).toBe(2)
    b.close()
    d.close()
  })

  it('a path option serves only that path', async () => {
    const { server } = await startServer({ session: () => echo, path: '/ws' })
    expect(server.url.endsWith('/ws')).toBe(true)
    await expect(rawClient(server.url.replace('/ws', '/other'))).rejects.toThrow(/404/)
    ;(await rawClient(server.url)).close()
  })

  it('checks its options', async () => {
    const { serve } = await import('../../lib/websocket/index.js')
    await expect(serve({ session: () => echo, maxSessions: 0 })).rejects.toThrow(/maxSessions/)
    await expect(serve({ session: () => echo, slowClient: 'never' as never })).rejects.toThrow(/slowClient/)
    await expect(serve({} as never)).rejects.toThrow(/session/)
  })
})

describe('heartbeat', () => {
  it('a client that stops answering pings is cut off and its task cancelled, every stage finalized', async () => {
    const log = { seen: [] as Frame[], finalized: 0 }
    const { server, sessions } = await startServer({
      session: () => pipeline(probe(log), probe(log)),
      heartbeatIntervalMs: 50,
      idleTimeoutMs: 200,
    })
    const ws = await rawClient(server.url, undefined, { autoPong: false })
    const t0 = Date.now()
    const result = await sessions[0]?.done
    // Generous bound (a loaded machine): detection within timeout + interval, plus scheduling slack.
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(result?.code).toBe(CloseCode.abnormal)
    expect(result?.task?.status).toBe('cancelled')
    expect(log.finalized).toBe(2)
    ws.terminate()
  })

  it('a client that answers pings stays connected past the idle timeout', async () => {
    const { server, sessions } = await startServer({ session: () => echo, heartbeatIntervalMs: 30, idleTimeoutMs: 100 })
    const ws = await rawClient(server.url)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(sessions[0]?.task?.hasFinished()).toBe(false)
    ws.close()
  })
})

describe('heartbeat and backpressure', () => {
  it('a client throttled by a full input queue is not cut off as idle', async () => {
    let open = false
    const gate: Processor = async function* (source) {
      for await (const f of source) {
        while (!open) await new Promise((resolve) => setTimeout(resolve, 5))
        yield f
      }
    }
    const { server, sessions } = await startServer({
      session: () => ({ processor: gate, params: { inputCapacity: 4 } }),
      heartbeatIntervalMs: 100,
      idleTimeoutMs: 500,
    })
    const ws = await rawClient(server.url, 'apipeline.json')
    let got = 0
    ws.on('message', () => got++)
    // The server stops reading after a few messages; the client's pongs wait unread behind the rest.
    const big = 'y'.repeat(32 * 1024)
    for (let i = 0; i < 40; i++) ws.send(json.serialize(Frames.text(big)))
    await waitFor(() => (sessions[0]?.stats.received ?? 0) >= 5)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(sessions[0]?.task?.hasFinished()).toBe(false)
    open = true
    ws.send(json.serialize(Frames.end()))
    expect((await closedWith(ws)).code).toBe(1000)
    expect(got).toBe(42) // start, 40 texts, end
  })
})
