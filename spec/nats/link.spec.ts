/**
 * The session protocol without a server: message headers, the open handshake, and two links wired back to back
 * through a fake connection (sequence numbers, credit, heartbeats, close).
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Frames, type Frame } from '../../lib/index.js'
import { CloseReason, MessageType, decodeBatch, decodeEnvelope, encodeBatch, encodeEnvelope, type Envelope } from '../../lib/nats/envelope.js'
import { GapDetectedError, MalformedMessageError, WorkerLostError, type RemoteSessionError } from '../../lib/nats/errors.js'
import { frameCodec } from '../../lib/nats/frame-codec.js'
import { PROTOCOL_VERSION, decodeOpenReply, decodeOpenRequest, encodeOpenRequest } from '../../lib/nats/handshake.js'
import { SessionLink, type LinkEvents } from '../../lib/nats/link.js'

/** A connection that delivers published messages to `deliver(subject, data)` synchronously. */
function fakeConnection(deliver: (subject: string, data: Uint8Array) => void, maxPayload = 1024 * 1024): NatsConnection {
  return { publish: (subject: string, data: Uint8Array) => deliver(subject, data), info: { max_payload: maxPayload } } as unknown as NatsConnection
}

interface Side {
  link: SessionLink
  frames: Frame[]
  upstream: Frame[]
  failures: RemoteSessionError[]
  junk: MalformedMessageError[]
  closes: CloseReason[]
  interrupts: number
}

function events(side: Omit<Side, 'link'>): LinkEvents {
  return {
    frame: (f) => side.frames.push(f),
    upstream: (f) => side.upstream.push(f),
    interrupt: () => side.interrupts++,
    close: (reason) => side.closes.push(reason),
    fail: (e) => side.failures.push(e),
    junk: (e) => side.junk.push(e),
  }
}

/** The session messages in NATS messages `published`, batches unpacked. */
const unpacked = (published: readonly Uint8Array[]): Envelope[] =>
  published.flatMap((m) => {
    const env = decodeEnvelope(m)
    return env.type === MessageType.batch ? decodeBatch(env) : [env]
  })

/** Two links, `a` (window `wa`) and `b` (window `wb`), wired back to back; `tap` sees every message a→b. */
function pair(wa = 4, wb = 4, options: { heartbeatMs?: number; timeoutMs?: number; maxPayload?: number; deliverLater?: boolean } = {}) {
  const sides: Record<'a' | 'b', Side> = {} as never
  const tapped: Uint8Array[] = []
  const nc = fakeConnection((subject, data) => {
    if (subject === 'to.b') tapped.push(data)
    const deliver = (): void => sides[subject === 'to.b' ? 'b' : 'a'].link.receive(data)
    // Like a socket: a message is read in a later phase of the event loop than the one that sent it.
    if (options.deliverLater === true) setImmediate(deliver)
    else deliver()
  }, options.maxPayload)
  for (const [name, window, peerWindow, peer] of [['a', wa, wb, 'to.b'], ['b', wb, wa, 'to.a']] as const) {
    const side = { frames: [], upstream: [], failures: [], junk: [], closes: [], interrupts: 0 } as Omit<Side, 'link'>
    const link = new SessionLink({
      nc,
      peer,
      codec: frameCodec(),
      window,
      peerWindow,
      heartbeatMs: options.heartbeatMs ?? 1000,
      heartbeatTimeoutMs: options.timeoutMs ?? 3000,
      where: name,
      lost: (reason) => new WorkerLostError(reason === 'heartbeat' ? 'heartbeat' : 'connection', `${name} lost its peer`),
    })
    link.events = events(side)
    ;(side as Side).link = link
    sides[name] = side as Side
  }
  return { ...sides, tapped }
}

const flushTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

afterEach(() => {
  vi.useRealTimers()
})

describe('session messages', () => {
  it('headers round-trip; anything that is not a session message is a MalformedMessageError', () => {
    const bytes = encodeEnvelope(MessageType.credit, 0, 4_000_000_000, 17)
    expect(decodeEnvelope(bytes)).toMatchObject({ type: MessageType.credit, flags: 0, seq: 4_000_000_000, arg: 17 })
    const payload = new Uint8Array([1, 2, 3])
    expect([...decodeEnvelope(encodeEnvelope(MessageType.frame, 1, 0, 0, payload)).payload]).toEqual([1, 2, 3])
    for (const junk of [new Uint8Array(3), new TextEncoder().encode('hello world!'), encodeEnvelope(9 as MessageType, 0, 0, 0), encodeEnvelope(MessageType.frame, 7, 0, 0)]) {
      expect(() => decodeEnvelope(junk)).toThrow(MalformedMessageError)
    }
  })

  it('the open request carries the start frame and is validated field by field', () => {
    const start = Frames.start({ allowInterruptions: true, audioInSampleRate: 8000 })
    const request = { v: PROTOCOL_VERSION, session: 's1', caller: '_INBOX.x', name: 'PipelineTask#0/remote:bot', start, window: 8, heartbeatMs: 100, heartbeatTimeoutMs: 300, format: 'protobuf' }
    const back = decodeOpenRequest(encodeOpenRequest(request))
    expect(back).toMatchObject({ ...request, start: { type: 'start', allowInterruptions: true, audioInSampleRate: 8000 } })
    const bad = (patch: Record<string, unknown>): Uint8Array => new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(encodeOpenRequest(request))), ...patch }))
    for (const patch of [{ v: 1 }, { v: PROTOCOL_VERSION + 1 }, { window: 0 }, { caller: 'a b' }, { caller: '_INBOX.>' }, { start: { type: 'text' } }, { name: '' }, { heartbeatMs: 1.5 }]) {
      expect(() => decodeOpenRequest(bad(patch)), JSON.stringify(patch)).toThrow(MalformedMessageError)
    }
    expect(() => decodeOpenRequest(new TextEncoder().encode('[1]'))).toThrow(MalformedMessageError)
    expect(() => decodeOpenReply(new TextEncoder().encode('{"ok":true}'))).toThrow(MalformedMessageError)
    expect(decodeOpenReply(new TextEncoder().encode('{"ok":false,"code":"busy","message":"full"}'))).toEqual({ ok: false, code: 'busy', message: 'full' })
  })
})

describe('two links back to back', () => {
  it('frames arrive in order with their identity; protobuf carries media, JSON the rest', async () => {
    const { a, b, tapped } = pair()
    const sent = [Frames.text('hi'), Frames.audioRaw({ audio: new Uint8Array([1, 2]) }), Frames.app('note', { x: [1, 'two'] }), Frames.end()]
    for (const f of sent) a.link.sendFrame(f)
    await flushTurn()
    expect(b.frames.map((f) => [f.type, f.id, f.name])).toEqual(sent.map((f) => [f.type, f.id, f.name]))
    expect(unpacked(tapped).map((m) => m.flags)).toEqual([1, 1, 0, 0]) // codec flag: binary, binary, JSON, JSON
    expect(b.failures).toEqual([])
  })

  it('credit: a sender holds window frames at most until the receiver consumes them; system frames pass', async () => {
    const { a, b } = pair(4, 4)
    for (let i = 0; i < 4; i++) a.link.sendFrame(Frames.text(String(i)))
    expect(a.link.sendCredit).toBe(0)
    const waiting = a.link.waitCredit()
    expect(waiting).toBeInstanceOf(Promise)
    a.link.sendFrame(Frames.cancel()) // out of band: no credit needed
    await flushTurn()
    expect(b.frames).toHaveLength(5)
    b.link.consumed(1) // grants in batches of window/4 = 1
    await flushTurn()
    expect(await waiting).toBe(true)
    expect(a.link.sendCredit).toBe(1)
  })

  it('a peer that sends past its credit breaks the protocol: the receiver fails with a MalformedMessageError', async () => {
    const { a, b } = pair(4, 2)
    // a believes b's window is 2 but sends a third credited frame anyway (by faking credit)
    a.link.sendFrame(Frames.text('1'))
    a.link.sendFrame(Frames.text('2'))
    ;(a.link as unknown as { credit: number }).credit = 5
    a.link.sendFrame(Frames.text('3'))
    await flushTurn()
    expect(b.failures).toHaveLength(1)
    expect(b.failures[0]).toBeInstanceOf(MalformedMessageError)
    expect(b.frames).toHaveLength(2)
  })

  it('a lost message is a gap, a repeated one too; junk is reported and skipped without consuming a number', async () => {
    const { a, b, tapped } = pair()
    a.link.sendFrame(Frames.text('1'))
    await flushTurn()
    b.link.receive(new TextEncoder().encode('garbage'))
    expect(b.junk).toHaveLength(1)
    a.link.sendFrame(Frames.text('2'))
    await flushTurn()
    expect(b.frames).toHaveLength(2)
    b.link.receive(tapped[0] as Uint8Array) // a repeat of message #0
    expect(b.failures[0]).toBeInstanceOf(GapDetectedError)
    expect(b.failures[0]).toMatchObject({ expected: 2, received: 0 })
    expect(b.link.closed).toBe(true)
  })

  it('the messages of one turn travel as one batch after the first; each keeps its number, order and credit', async () => {
    const { a, b, tapped } = pair(64, 64)
    const sent = Array.from({ length: 40 }, (_, i) => Frames.text(String(i)))
    for (const f of sent) a.link.sendFrame(f)
    a.link.sendUpstream(Frames.error('up'))
    await flushTurn()
    // The first message leaves at once; the other 40 follow in one NATS message.
    expect(tapped.map((m) => decodeEnvelope(m).type)).toEqual([MessageType.frame, MessageType.batch])
    expect(unpacked(tapped).map((m) => m.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i))
    expect(b.frames.map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : '?'))).toEqual(sent.map((f) => f.text))
    expect(b.upstream.map((f) => f.type)).toEqual(['error'])
    expect(a.link.sendCredit).toBe(24)
    // The next turn numbers on from there.
    a.link.sendFrame(Frames.text('40'))
    a.link.sendFrame(Frames.text('41'))
    await flushTurn()
    expect(unpacked(tapped.slice(2)).map((m) => m.seq)).toEqual([41, 42])
    expect(b.frames).toHaveLength(42)
    expect(b.failures).toEqual([])
  })

  it('links on one connection: on a quiet connection the first message of a turn leaves at once, every later one of every link at the end of the turn, in one run; while it streams, all wait for the end of the turn', async () => {
    const published: string[] = []
    const nc = fakeConnection((subject) => published.push(subject))
    const link = (peer: string): SessionLink =>
      new SessionLink({ nc, peer, codec: frameCodec(), window: 8, peerWindow: 8, heartbeatMs: 1000, heartbeatTimeoutMs: 3000, where: peer, lost: () => new WorkerLostError('heartbeat', 'lost') })
    const [x, y, z] = [link('x'), link('y'), link('z')] as [SessionLink, SessionLink, SessionLink]
    x.sendFrame(Frames.text('1'))
    y.sendFrame(Frames.text('1'))
    z.sendFrame(Frames.text('1'))
    x.sendFrame(Frames.text('2'))
    y.sendFrame(Frames.text('2'))
    expect(published).toEqual(['x'])
    await flushTurn()
    // y's two messages leave as one batch; each link's messages in its order.
    expect(published).toEqual(['x', 'y', 'z', 'x'])
    // The connection streams now: the first message of the next turn waits for its end too (one write per turn).
    z.sendFrame(Frames.text('2'))
    x.sendFrame(Frames.text('3'))
    expect(published).toHaveLength(4)
    await flushTurn()
    expect(published).toEqual(['x', 'y', 'z', 'x', 'z', 'x'])
    // A turn goes by with nothing to send: the connection is quiet again, a lone message leaves at once.
    await flushTurn()
    await flushTurn()
    y.sendFrame(Frames.text('3'))
    expect(published).toHaveLength(7)
    for (const l of [x, y, z]) l.close()
  })

  it("batches stay within the server's max_payload: a turn's messages are split over several", async () => {
    const { a, b, tapped } = pair(64, 64, { maxPayload: 1024 })
    const sent = Array.from({ length: 30 }, () => Frames.audioRaw({ audio: new Uint8Array(200) }))
    for (const f of sent) a.link.sendFrame(f)
    await flushTurn()
    expect(tapped.length).toBeGreaterThan(2)
    expect(Math.max(...tapped.map((m) => m.byteLength))).toBeLessThanOrEqual(1024)
    expect(b.frames.map((f) => f.id)).toEqual(sent.map((f) => f.id))
    expect(b.failures).toEqual([])
  })

  it('a gap inside a batch is detected at the frame: the frames before it arrive, the session fails naming the numbers', () => {
    const { b } = pair(64, 64)
    const codec = frameCodec()
    const frame = (seq: number): Uint8Array => encodeEnvelope(MessageType.frame, 1, seq, 0, codec.encode(Frames.text(String(seq))).bytes)
    b.link.receive(encodeBatch([frame(0), frame(1), frame(3), frame(4)], 0)) // #2 lost
    expect(b.frames.map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : '?'))).toEqual(['0', '1'])
    expect(b.failures).toHaveLength(1)
    expect(b.failures[0]).toBeInstanceOf(GapDetectedError)
    expect(b.failures[0]).toMatchObject({ expected: 2, received: 3 })
  })

  it('a repeated batch is a gap', () => {
    const { b } = pair(64, 64)
    const codec = frameCodec()
    const batch = encodeBatch([0, 1].map((seq) => encodeEnvelope(MessageType.frame, 1, seq, 0, codec.encode(Frames.text('x')).bytes)), 0)
    b.link.receive(batch)
    b.link.receive(batch)
    expect(b.frames).toHaveLength(2)
    expect(b.failures[0]).toMatchObject({ code: 'gap', expected: 2, received: 0 })
  })

  it('a malformed batch fails the session with a MalformedMessageError and delivers none of its frames', () => {
    const codec = frameCodec()
    const frame = (seq: number): Uint8Array => encodeEnvelope(MessageType.frame, 1, seq, 0, codec.encode(Frames.text(String(seq))).bytes)
    const good = encodeBatch([frame(0), frame(1)], 0)
    const withCount = (count: number): Uint8Array => {
      const bytes = good.slice()
      new DataView(bytes.buffer).setUint32(6, count)
      return bytes
    }
    const cases: Record<string, Uint8Array> = {
      'cut short': good.subarray(0, good.byteLength - 3),
      'bytes left over': Uint8Array.from([...good, 0, 0]),
      'another count': withCount(3),
      'an empty batch': encodeBatch([], 0),
      'a batch inside': encodeBatch([frame(0), encodeBatch([frame(1)], 1)], 0),
      'junk inside': encodeBatch([frame(0), new TextEncoder().encode('hello world!')], 0),
      'a wrong first number': encodeBatch([frame(0), frame(1)], 5),
      'an undecodable frame': encodeBatch([frame(0), encodeEnvelope(MessageType.frame, 1, 1, 0, new Uint8Array([0xff, 0xff, 0xff]))], 0),
    }
    for (const [what, bytes] of Object.entries(cases)) {
      const { b } = pair(64, 64)
      b.link.receive(bytes)
      expect(b.failures, what).toHaveLength(1)
      expect(b.failures[0], what).toBeInstanceOf(MalformedMessageError)
      expect(b.link.closed, what).toBe(true)
      if (what !== 'an undecodable frame') expect(b.frames, what).toEqual([])
    }
  })

  it('heartbeats keep a quiet session alive; a silent peer is lost after the timeout', async () => {
    vi.useFakeTimers()
    const { a, b } = pair(4, 4, { heartbeatMs: 100, timeoutMs: 350 })
    await vi.advanceTimersByTimeAsync(2000)
    expect(a.failures).toEqual([])
    expect(b.failures).toEqual([])
    // b goes silent (as if killed): a notices within the timeout plus one check period
    ;(b.link as unknown as { options: { nc: NatsConnection } }).options.nc = fakeConnection(() => {})
    await vi.advanceTimersByTimeAsync(350 + 50)
    expect(a.failures).toHaveLength(1)
    expect(a.failures[0]).toMatchObject({ code: 'worker-lost', reason: 'heartbeat' })
    b.link.close()
  })

  it('the links of one connection share one heartbeat timer per period: one wake-up checks them all', async () => {
    vi.useFakeTimers()
    const published: string[] = []
    const nc = fakeConnection((subject) => published.push(subject))
    const link = (peer: string, heartbeatMs: number): SessionLink =>
      new SessionLink({ nc, peer, codec: frameCodec(), window: 8, peerWindow: 8, heartbeatMs, heartbeatTimeoutMs: 100 * heartbeatMs, where: peer, lost: () => new WorkerLostError('heartbeat', 'lost') })
    const links = Array.from({ length: 16 }, (_, i) => link(`p${i}`, 100))
    expect(vi.getTimerCount()).toBe(1)
    const other = link('slow', 400) // another period, another timer
    expect(vi.getTimerCount()).toBe(2)
    await vi.advanceTimersByTimeAsync(100)
    // every quiet link sent its heartbeat in the same tick
    expect(new Set(published)).toEqual(new Set(links.map((_, i) => `p${i}`)))
    for (const l of links) l.close()
    other.close()
    await vi.advanceTimersByTimeAsync(1000) // the connection's turn goes quiet too
    expect(vi.getTimerCount()).toBe(0)
  })

  it("this side's own stall is not the peer's silence: a late heartbeat check does not fail the session, a silent peer is still found after it", async () => {
    const { a, b } = pair(4, 4, { heartbeatMs: 40, timeoutMs: 200, deliverLater: true })
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
    await sleep(150)
    // The event loop is held up for 3 timeouts (a long synchronous stretch, or no CPU on a loaded machine). When it
    // turns again the overdue checks run before the peer's waiting messages are read.
    const until = performance.now() + 600
    while (performance.now() < until) {
      // stalled
    }
    await sleep(100)
    expect(a.failures).toEqual([])
    expect(b.failures).toEqual([])
    // b goes silent: a still notices, on the time it could listen.
    ;(b.link as unknown as { options: { nc: NatsConnection } }).options.nc = fakeConnection(() => {})
    const silentFrom = performance.now()
    for (let i = 0; i < 500 && a.failures.length === 0; i++) await sleep(10)
    expect(a.failures).toHaveLength(1)
    expect(a.failures[0]).toMatchObject({ code: 'worker-lost', reason: 'heartbeat' })
    expect(performance.now() - silentFrom).toBeGreaterThanOrEqual(100) // not at once: it takes the timeout, give or take the last heartbeats
    b.link.close()
  })

  it('close reasons and interrupts reach the peer; a closed link sends nothing more', async () => {
    const { a, b } = pair()
    a.link.sendInterrupt()
    a.link.sendUpstream(Frames.error('up'))
    a.link.sendClose(CloseReason.gap, 'lost #3')
    expect(a.link.sendFrame(Frames.text('late'))).toBe(false)
    await flushTurn()
    expect(b.interrupts).toBe(1)
    expect(b.upstream.map((f) => f.type)).toEqual(['error'])
    expect(b.closes).toEqual([CloseReason.gap])
    expect(b.frames).toEqual([])
    b.link.close()
  })
})
