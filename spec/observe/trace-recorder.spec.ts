import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Frames, map, pipeline, run } from '../../lib/index.js'
import { readTrace, traceCli, traceRecorder, TraceFormatError, type CliIo } from '../../lib/trace/index.js'

const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f), 'upper')
const bot = pipeline(upper, map((f) => f, 'echo'))
const texts = (n: number) => Array.from({ length: n }, (_, i) => Frames.text(`frame number ${i}`))

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'apipeline-trace-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function quietIo(): CliIo & { lines: string[] } {
  const lines: string[] = []
  return { lines, out: (l) => void lines.push(l), err: (l) => void lines.push(l), tty: false }
}

describe('traceRecorder', () => {
  it('writes a header with the graph, every frame and the end, readable back', async () => {
    const file = join(dir, 's.jsonl')
    const rec = traceRecorder(file, { processor: bot })
    for await (const _ of run(bot, texts(3), { name: 'R', observe: rec })) void _
    await rec.closed
    const trace = await readTrace(file)
    expect(trace.header).toMatchObject({ kind: 'header', task: 'R', part: 0 })
    expect(trace.header.graph?.children.map((c) => c.path)).toEqual(['upper', 'echo'])
    expect(trace.malformed).toBe(0)
    const upperTexts = trace.frames.filter((f) => f.p === 'upper' && f.frame.type === 'text').map((f) => f.frame.text)
    expect(upperTexts).toHaveLength(3)
    expect(upperTexts).toEqual([0, 1, 2].map((i) => expect.stringMatching(new RegExp(`\\(text: "FRAME NUMBER ${i}"\\)$`))))
    expect(trace.frames.filter((f) => f.at === 'input').map((f) => f.frame.type)).toEqual(['start', 'text', 'text', 'text', 'end'])
    expect(trace.frames.filter((f) => f.at === 'output').at(-1)?.frame.type).toBe('end')
    expect(trace.events.at(-1)).toMatchObject({ kind: 'ended', status: 'ended' })
    const times = trace.frames.map((f) => f.t)
    expect(times.every((t) => t >= 0)).toBe(true)
    expect(rec.stats()).toMatchObject({ droppedLines: 0, rotations: 0 })
    expect(rec.stats().bytes).toBe(statSync(file).size)
  })

  it('never lets a file grow past maxBytes: later lines are dropped and counted', async () => {
    const file = join(dir, 'small.jsonl')
    const rec = traceRecorder(file, { maxBytes: 4096 })
    for await (const _ of run(bot, texts(200), { observe: rec })) void _
    await rec.closed
    expect(statSync(file).size).toBeLessThanOrEqual(4096)
    expect(rec.stats().droppedLines).toBeGreaterThan(0)
    expect((await readTrace(file)).malformed).toBe(0)
  })

  it('rotates: FILE.1 … FILE.n, each bounded and starting with the header', async () => {
    const file = join(dir, 'rot.jsonl')
    const rec = traceRecorder(file, { maxBytes: 4096, rotate: 2, processor: bot })
    for await (const _ of run(bot, texts(300), { name: 'Rot', observe: rec })) void _
    await rec.closed
    expect(rec.stats().rotations).toBeGreaterThan(3)
    expect(rec.stats().droppedLines).toBe(0)
    for (const f of [file, `${file}.1`, `${file}.2`]) {
      expect(statSync(f).size).toBeLessThanOrEqual(4096)
      const first = JSON.parse(readFileSync(f, 'utf8').split('\n')[0] as string) as { kind: string; task: string }
      expect(first).toMatchObject({ kind: 'header', task: 'Rot' })
    }
    expect(existsSync(`${file}.3`)).toBe(false)
    const last = await readTrace(file)
    expect(last.header.part).toBe(rec.stats().rotations)
    expect(last.events.at(-1)?.kind).toBe('ended')
    // The parts hold consecutive stretches of the session.
    const older = await readTrace(`${file}.1`)
    expect((older.frames.at(-1)?.t ?? 0) <= (last.frames[0]?.t ?? 0)).toBe(true)
  })

  it('rejects bad options and bad files with clear errors', async () => {
    expect(() => traceRecorder('')).toThrow(TypeError)
    expect(() => traceRecorder('x', { maxBytes: 10 })).toThrow(/maxBytes/)
    expect(() => traceRecorder('x', { rotate: -1 })).toThrow(/rotate/)
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, 'not json\n{"kind":"frame"}\n')
    await expect(readTrace(bad)).rejects.toBeInstanceOf(TraceFormatError)
    const io = quietIo()
    expect(await traceCli(['trace', 'view', bad], io)).toBe(1)
    expect(io.lines.join('\n')).toContain('not a trace')
    expect(await traceCli(['trace', 'view', join(dir, 'missing.jsonl')], io)).toBe(1)
    expect(await traceCli(['frobnicate'], io)).toBe(2)
    expect(await traceCli(['trace', 'view'], io)).toBe(2)
    expect(await traceCli(['trace', 'view', bad, '--bogus'], io)).toBe(2)
    expect(await traceCli([], io)).toBe(0)
  })

  it('a recorder that cannot write rejects `closed` and never ends the task', async () => {
    const rec = traceRecorder(join(dir, 'no', 'such', 'dir', 'x.jsonl'))
    const handle = run(bot, texts(2), { observe: rec })
    for await (const _ of handle) void _
    expect((await handle.result).status).toBe('ended')
    await expect(rec.closed).rejects.toThrow(/ENOENT/)
  })
})
