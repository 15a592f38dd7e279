/**
 * Interruption over the wire: the client's request interrupts the session's task, the server pipeline's last stage
 * sees `startInterruption` before any stale output, and the client drops what it had from before.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Frames, pipeline, PipelineTask, type Frame, type ProcessorFn } from '../../lib/index.js'
import { protobufSerializer } from '../../lib/wire/protobuf.js'
import { connect, remote } from '../../lib/websocket/index.js'
import { closeAll, probe, rawClient, sleep, startServer, waitFor } from './helpers.js'

afterEach(closeAll)

/**
 * A fake LLM: answers a question `q` with words `q-0`, `q-1`, …, pausing 3 ms after every `burst` words, honouring
 * ctx.signal.
 */
function answerInWords(burst: number): ProcessorFn {
  return async function* llm(source, ctx) {
    for await (const f of source) {
      if (f.kind !== 'data' || f.type !== 'text') {
        yield f
        continue
      }
      // The signal of this answer: an interruption aborts it (ctx.signal is a fresh one afterwards).
      const signal = ctx.signal
      for (let i = 0; i < 2000 && !signal.aborted; i++) {
        yield Frames.text(`${f.text}-${i}`)
        if (i % burst === burst - 1) await sleep(3)
      }
    }
  }
}

/** Words every 3 ms. */
const llm = answerInWords(1)

const word = (f: Frame): string | undefined => (f.kind === 'data' && f.type === 'text' ? f.text : undefined)

describe('interruption over the wire', () => {
  it('the server sink sees startInterruption before stale output; the client drops what it had buffered', async () => {
    const log = { seen: [] as Frame[], finalized: 0 }
    const { server } = await startServer({ session: () => pipeline(llm, probe(log)) })
    const conn = await connect(server.url)
    const source = conn.source[Symbol.asyncIterator]()
    await conn.send(Frames.text('a'))
    for (;;) {
      const r = await source.next()
      if (r.done === true) throw new Error('closed early')
      if (word(r.value) === 'a-5') break
    }
    // Stop reading for a while: answer words pile up in the client's queue.
    await sleep(100)
    conn.interrupt()
    await conn.send(Frames.text('b'))
    const after: Frame[] = []
    for (;;) {
      const r = await source.next()
      if (r.done === true) throw new Error('closed early')
      after.push(r.value)
      if (word(r.value) === 'b-5') break
    }
    expect(after[0]?.type).toBe('startInterruption')
    expect(after.flatMap((f) => word(f) ?? []).every((w) => w.startsWith('b-'))).toBe(true)
    expect(conn.droppedStale).toBeGreaterThan(0)
    const at = log.seen.findIndex((f) => f.type === 'startInterruption')
    expect(at).toBeGreaterThan(0)
    expect(log.seen.slice(at).flatMap((f) => word(f) ?? []).some((w) => w.startsWith('a-'))).toBe(false)
    await conn.close()
  })

  it('a protobuf client (as from Python) interrupts with startInterruption or interruption frames', async () => {
    const { server, sessions } = await startServer({ session: () => llm })
    const pb = protobufSerializer()
    const ws = await rawClient(server.url)
    const got: Frame[] = []
    ws.on('message', (data) => got.push(pb.deserialize(data as Buffer)))
    ws.send(pb.serialize(Frames.text('a')))
    await waitFor(() => got.length > 3)
    ws.send(pb.serialize(Frames.startInterruption()))
    await waitFor(() => got.some((f) => f.type === 'startInterruption'))
    ws.send(pb.serialize(Frames.text('b')))
    await waitFor(() => got.some((f) => word(f) === 'b-2'))
    ws.send(pb.serialize(Frames.interruption()))
    await waitFor(() => got.filter((f) => f.type === 'startInterruption').length === 2)
    ws.close()
    expect((await sessions[0]?.done)?.task?.status).toBe('cancelled')
  })

  it('a session that does not allow interruptions tells the client so', async () => {
    const { server } = await startServer({ session: () => ({ processor: llm, params: { allowInterruptions: false } }) })
    const conn = await connect(server.url, { interruptAckTimeoutMs: 200 })
    await conn.send(Frames.text('a'))
    conn.interrupt()
    const seen: Frame[] = []
    for await (const f of conn.source) {
      seen.push(f)
      if (f.type === 'error') break
    }
    const err = seen.at(-1)
    expect(err?.kind === 'system' && err.type === 'error' && /interruptions are not allowed/.test(err.error)).toBe(true)
  })

  it('remote(): a local interruption reaches the remote pipeline; no stale remote word comes after it', async () => {
    const { server } = await startServer({ session: () => llm })
    const task = new PipelineTask(pipeline(remote(server.url)), { allowInterruptions: true })
    const out: Frame[] = []
    const reading = (async () => {
      for await (const f of task.frames()) out.push(f)
    })()
    const result = task.run()
    await task.queueFrame(Frames.text('a'))
    await waitFor(() => out.some((f) => word(f) === 'a-5'))
    task.interrupt()
    await task.queueFrame(Frames.text('b'))
    await waitFor(() => out.some((f) => word(f) === 'b-5'))
    const at = out.findIndex((f) => f.type === 'startInterruption')
    expect(at).toBeGreaterThan(0)
    const later = out.slice(at).flatMap((f) => word(f) ?? [])
    expect(later.some((w) => w.startsWith('a-'))).toBe(false)
    expect(later).toContain('b-5')
    await task.cancel()
    await Promise.all([reading, result])
  })

  it('remote(): an interruption from the sink, as a remote word is on its way out, lets no word of the old answer through', async () => {
    // Words come in bursts of four, so the next ones are on their way when the sink takes one.
    const bursts = answerInWords(4)
    const { server } = await startServer({ session: () => bursts })
    for (let round = 0; round < 10; round++) {
      const task = new PipelineTask(pipeline(remote(server.url)), { allowInterruptions: true })
      const out: Frame[] = []
      let interrupted = false
      const reading = (async () => {
        for await (const f of task.frames()) {
          out.push(f)
          // The user barges in as a word comes out, in the same run of microtasks as the hand-over of the next one.
          if (!interrupted && word(f) === 'a-4') {
            interrupted = task.interrupt()
            void task.queueFrame(Frames.text('b'))
          }
        }
      })()
      const result = task.run()
      await task.queueFrame(Frames.text('a'))
      await waitFor(() => out.some((f) => word(f) === 'b-5'))
      const at = out.findIndex((f) => f.type === 'startInterruption')
      expect(at).toBeGreaterThan(0)
      expect(out.slice(at).flatMap((f) => word(f) ?? []).filter((w) => w.startsWith('a-'))).toEqual([])
      await task.cancel()
      await Promise.all([reading, result])
    }
  })
})
