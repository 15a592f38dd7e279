import { describe, expect, it } from 'vitest'
import { Frames, interruptionPolicy, type Frame } from '../../lib/index.js'
import { detachedContext } from '../../lib/core/context.js'

async function feed(frames: Frame[], options: Parameters<typeof interruptionPolicy>[0]): Promise<{ out: Frame[]; up: Frame[] }> {
  const up: Frame[] = []
  const ctx = detachedContext('policy', { onUpstream: (f) => up.push(f) })
  const out: Frame[] = []
  const source = (async function* () {
    yield* frames
  })()
  for await (const f of interruptionPolicy(options)(source, ctx)) out.push(f)
  return { out, up }
}

/** `ms` milliseconds of 16 kHz mono 16-bit audio. */
const audio = (ms: number): Frame => Frames.audioRaw({ audio: new Uint8Array((16000 * 2 * ms) / 1000) })

describe('interruptionPolicy', () => {
  it('interrupts once the user said minWords real words; backchannels do not count; forwards every frame', async () => {
    const frames = [Frames.text('Mm-hmm.'), Frames.text('yeah, yeah'), Frames.text('wait'), Frames.text('stop there please')]
    const { out, up } = await feed(frames, { minWords: 3 })
    expect(out).toEqual(frames)
    expect(up.map((f) => f.type)).toEqual(['interruptionTask'])
  })

  it('needs minDurationMs of speech audio as well when both are set, and fires once per user turn', async () => {
    const seen: number[] = []
    const { up } = await feed(
      [Frames.text('stop now'), audio(200), audio(200), audio(200), Frames.text('more'), Frames.stopInterruption(), audio(100), Frames.text('again please')],
      { minWords: 2, minDurationMs: 500, onInterrupt: (r) => seen.push(Math.round(r.durationMs)) },
    )
    expect(up.map((f) => f.type)).toEqual(['interruptionTask'])
    expect(seen).toEqual([600])
  })

  it('a configurable backchannel list; [] counts every word', async () => {
    expect((await feed([Frames.text('claro')], { backchannels: ['claro'] })).up).toEqual([])
    expect((await feed([Frames.text('yeah')], { backchannels: [] })).up.map((f) => f.type)).toEqual(['interruptionTask'])
    expect((await feed([Frames.text('yeah')], {})).up).toEqual([])
  })

  it('rejects bad options with a TypeError', () => {
    expect(() => interruptionPolicy({ minWords: -1 })).toThrow(TypeError)
    expect(() => interruptionPolicy({ minDurationMs: Number.NaN })).toThrow(TypeError)
    expect(() => interruptionPolicy({ backchannels: [1 as unknown as string] })).toThrow(TypeError)
  })
})
