/**
 * Backpressure both ways: a client that stops reading cannot grow the server's memory (wait, drop or close), and a
 * client that sends faster than its pipeline reads is throttled by the task's bounded input queue.
 */
import type { WebSocket } from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { Frames, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { jsonSerializer } from '../../lib/wire/json.js'
import { CloseCode, connect } from '../../lib/websocket/index.js'
import { closeAll, closedWith, rawClient, sleep, startServer, waitFor } from './helpers.js'

afterEach(closeAll)

const json = jsonSerializer()
const PAD = 'x'.repeat(600)

/** On "go", streams numbered ~640-byte text frames as fast as it can, until cancelled; counts them. */
function firehose(counter: { produced: number }): ProcessorFn {
  return async function* (source, ctx) {
    for await (const f of source) {
      yield f
      if (f.kind === 'data' && f.type === 'text' && f.text === 'go') {
        for (let i = 0; !ctx.signal.aborted; i++) {
          counter.produced++
          yield Frames.text(`${i}:${PAD}`)
          if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve))
        }
      }
    }
  }
}

/** The TCP socket under a raw `ws` client: pausing it stops reading from the network. */
const tcp = (ws: WebSocket): { pause(): void; resume(): void } => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket

/** Waits until `value()` has not changed for `quietMs`. */
async function settle(value: () => number, quietMs = 400, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  let last = value()
  let since = Date.now()
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`still changing after ${timeoutMs} ms (${value()})`)
    await sleep(50)
    const v = value()
    if (v !== last) {
      last = v
      since = Date.now()
    }
  }
  return last
}

const sequence = (frames: readonly Frame[]): number[] =>
  frames.flatMap((f) => (f.kind === 'data' && f.type === 'text' && f.text.includes(':') ? [Number(f.text.split(':')[0])] : []))

describe('a slow client', () => {
  it("'wait': the pipeline stops at the socket's high water mark; nothing is lost once the client reads again", async () => {
    const counter = { produced: 0 }
    const highWaterMark = 64 * 1024
    const { server, sessions } = await startServer({ session: () => firehose(counter), highWaterMark })
    const ws = await rawClient(server.url, 'apipeline.json')
    const received: Frame[] = []
    ws.on('message', (data) => received.push(json.deserialize(data as Buffer)))
    tcp(ws).pause()
    ws.send(json.serialize(Frames.text('go')))
    const plateau = await settle(() => counter.produced)
    // Bounded: socket buffers in the kernel (a few MB on loopback) + the high water mark + the task's queues.
    expect(plateau).toBeGreaterThan(0)
    expect(plateau).toBeLessThan(40_000)
    expect(sessions[0]?.bufferedAmount).toBeLessThanOrEqual(highWaterMark + 4096)
    tcp(ws).resume()
    await waitFor(() => sequence(received).length > plateau + 100, 15_000, 'frames after resuming')
    const seq = sequence(received)
    expect(seq).toEqual(seq.map((_, i) => i))
    ws.close()
  })

  it("'drop': data frames are dropped above the high water mark and reported; what arrives keeps its order", async () => {
    const counter = { produced: 0 }
    const dropped: Frame[] = []
    const { server, sessions } = await startServer({
      session: () => firehose(counter),
      highWaterMark: 64 * 1024,
      slowClient: 'drop',
      onDrop: (f) => dropped.push(f),
    })
    const ws = await rawClient(server.url, 'apipeline.json')
    const received: Frame[] = []
    ws.on('message', (data) => received.push(json.deserialize(data as Buffer)))
    tcp(ws).pause()
    ws.send(json.serialize(Frames.text('go')))
    await waitFor(() => dropped.length > 1000, 20_000, 'dropped frames')
    expect(sessions[0]?.bufferedAmount).toBeLessThanOrEqual(64 * 1024 + 4096)
    expect(sessions[0]?.stats.dropped).toBeGreaterThan(1000)
    tcp(ws).resume()
    await waitFor(() => sequence(received).length > 100, 15_000, 'frames after resuming')
    ws.close()
    const result = await sessions[0]?.done
    expect(result?.task?.errors.some((e) => /slow client, dropping data frames/.test(e.error))).toBe(true)
    const seq = sequence(received)
    for (let i = 1; i < seq.length; i++) expect(seq[i]).toBeGreaterThan(seq[i - 1] as number)
    expect(seq.length).toBeLessThan(counter.produced)
  })

  it("'close': the connection is closed with 1008 and the task cancelled", async () => {
    const counter = { produced: 0 }
    const { server, sessions } = await startServer({ session: () => firehose(counter), highWaterMark: 64 * 1024, slowClient: 'close' })
    const ws = await rawClient(server.url, 'apipeline.json')
    tcp(ws).pause()
    ws.send(json.serialize(Frames.text('go')))
    const result = await sessions[0]?.done
    expect(result?.code).toBe(CloseCode.policy)
    expect(result?.task?.status).toBe('cancelled')
    // The close frame waits behind the unread data; a client that does not read it in time is cut off.
    tcp(ws).resume()
    expect([CloseCode.policy, CloseCode.abnormal]).toContain((await closedWith(ws)).code)
  })
})

describe('a fast client', () => {
  it('is throttled by the bounded input queue: the server stops reading the socket, nothing is lost', async () => {
    let open = false
    const gate: Processor = async function* (source) {
      for await (const f of source) {
        while (!open) await sleep(5)
        yield f
      }
    }
    const { server, sessions } = await startServer({ session: () => ({ processor: gate, params: { inputCapacity: 16 } }) })
    const ws = await rawClient(server.url, 'apipeline.json')
    const received: Frame[] = []
    ws.on('message', (data) => received.push(json.deserialize(data as Buffer)))
    const n = 20_000
    for (let i = 0; i < n; i++) ws.send(json.serialize(Frames.text(`${i}:${PAD}`)))
    await waitFor(() => sessions[0] !== undefined)
    await settle(() => sessions[0]?.stats.received ?? 0)
    const session = sessions[0]
    // Taken from the socket: the input queue (16), the frame the gate holds, one blocked push.
    expect(session?.stats.received).toBeLessThan(64)
    // Parsed but not queued while paused: at most what one read from the network held.
    expect(session?.stats.maxPending).toBeLessThan(2000)
    // The rest waits in the network and in the client's socket buffer.
    expect(ws.bufferedAmount).toBeGreaterThan(0)
    open = true
    ws.send(json.serialize(Frames.end()))
    await closedWith(ws)
    expect(sequence(received)).toEqual(Array.from({ length: n }, (_, i) => i))
  })
})

describe('the client', () => {
  it('stops reading its socket while source is not read: the server pipeline stalls, nothing is lost', async () => {
    const counter = { produced: 0 }
    const { server, sessions } = await startServer({ session: () => firehose(counter), highWaterMark: 64 * 1024 })
    const conn = await connect(server.url, { receiveCapacity: 32 })
    await conn.send(Frames.text('go'))
    const plateau = await settle(() => counter.produced)
    expect(plateau).toBeLessThan(40_000)
    expect(sessions[0]?.bufferedAmount).toBeLessThanOrEqual(64 * 1024 + 4096)
    const seq: number[] = []
    for await (const f of conn.source) {
      seq.push(...sequence([f]))
      if (seq.length > plateau + 100) break
    }
    expect(seq).toEqual(seq.map((_, i) => i))
    expect((await conn.closed).code).toBe(1000)
  })
})
