import { describe, expect, it, vi } from 'vitest'
import { pipeline } from '../../lib/core/pipeline.js'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'
import { frameLogger } from '../../lib/processors/frame-logger.js'
import { textTransformer } from '../../lib/processors/text-transformer.js'
import { collect, pushUpOnStart, sampleFrames, texts, types } from './run-helpers.js'

describe('textTransformer', () => {
  it('sync: transforms text frames downstream, keeps other frames and the order', async () => {
    const a = Frames.app('note', 1)
    const { out } = await collect(textTransformer((t) => t.toUpperCase()), [Frames.text('a'), a, Frames.text('b')])
    expect(out.map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))).toEqual(['start', 'A', 'note', 'B', 'end'])
    expect(out.find((f) => f.type === 'note')?.id).toBe(a.id)
  })

  it('an unchanged text forwards the original frame; a changed one is a new frame', async () => {
    const same = Frames.text('same')
    const other = Frames.text('x')
    const { out } = await collect(textTransformer((t) => (t === 'x' ? 'y' : t)), [same, other])
    const outTexts = out.filter((f) => f.kind === 'data' && f.type === 'text')
    expect(outTexts[0]?.id).toBe(same.id)
    expect(outTexts[1]?.id).not.toBe(other.id)
  })

  it('async: awaited in order even when later results come first', async () => {
    const delays = [30, 0, 10]
    let i = 0
    const t = textTransformer(async (text) => {
      await new Promise((r) => setTimeout(r, delays[i++] ?? 0))
      return `${text}!`
    })
    const { out } = await collect(t, ['a', 'b', 'c'].map((x) => Frames.text(x)))
    expect(texts(out)).toEqual(['a!', 'b!', 'c!'])
  })

  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: upstream text is transformed and stays upstream (not turned around); system/control/app pass`, async () => {
      const fn = (text: string, info: { direction: string }): string => `${info.direction}:${text}`
      const t = mode === 'sync' ? textTransformer(fn) : textTransformer(async (x, info) => fn(x, info))
      const s = sampleFrames()
      const { out, ups } = await collect(pipeline(t, pushUpOnStart(() => [s.system, s.control, s.data, s.app])), [Frames.text('d')])
      expect(texts(out)).toEqual(['down:d'])
      expect(ups.map((f) => (f.kind === 'data' && f.type === 'text' ? f.text : f.type))).toEqual(['metrics', 'syncNotify', 'up:payload', 'note'])
    })
  }

  it('down: system and control frames pass unchanged', async () => {
    const m = Frames.metrics()
    const sn = Frames.syncNotify()
    const { out } = await collect(textTransformer((x) => x), [m, sn])
    expect(out.map((f) => f.id)).toEqual(expect.arrayContaining([m.id, sn.id]))
  })

  it('a throwing function drops that frame and reports an error; a non-string result is a TypeError', async () => {
    const t = textTransformer((x) => {
      if (x === 'bad') throw new Error('cannot')
      return x === 'num' ? (5 as never) : x
    })
    const { out, ups } = await collect(t, ['a', 'bad', 'num', 'b'].map((x) => Frames.text(x)))
    expect(texts(out)).toEqual(['a', 'b'])
    expect(ups.filter((f) => f.kind === 'system' && f.type === 'error').map((f) => (f.kind === 'system' && f.type === 'error' ? f.error : ''))).toEqual([
      'cannot',
      'textTransformer: the function must return a string, got number',
    ])
  })

  it('passes the stage signal to the function', async () => {
    const seen: unknown[] = []
    await collect(
      textTransformer(async (x, { signal }) => {
        seen.push(signal)
        return x
      }),
      [Frames.text('a')],
    )
    expect(seen[0]).toBeInstanceOf(AbortSignal)
  })

  it('rejects a non-function', () => {
    expect(() => textTransformer(null as never)).toThrow(TypeError)
  })
})

describe('frameLogger', () => {
  it('logs every kind in both directions and forwards everything unchanged', async () => {
    const lines: string[] = []
    const s = sampleFrames()
    const input: Frame[] = [Frames.metrics(), Frames.syncNotify(), Frames.text('hi'), Frames.app('note', 2)]
    const { out, ups } = await collect(
      pipeline(frameLogger({ prefix: 'P', logger: (line) => lines.push(line) }), pushUpOnStart(() => [s.system, s.control, s.data, s.app])),
      input,
    )
    expect(out.map((f) => f.id)).toEqual(expect.arrayContaining(input.map((f) => f.id)))
    expect(ups.map((f) => f.id)).toEqual([s.system.id, s.control.id, s.data.id, s.app.id])
    expect(lines.filter((l) => l.includes('↓')).length).toBe(6)
    expect(lines.filter((l) => l.includes('↑')).length).toBe(4)
    expect(lines.some((l) => l.endsWith(`/frameLogger ↓ P: ${Frames.format(input[2] as Frame)}`))).toBe(true)
    expect(lines.some((l) => l.includes('↑ P: TextFrame') && l.includes('payload'))).toBe(true)
  })

  it('include / exclude / when / direction select what is logged; frames are always forwarded', async () => {
    const lines: string[] = []
    const logger = (line: string): void => void lines.push(line)
    const { out } = await collect(
      pipeline(
        frameLogger({ logger, include: ['text', 'note'], exclude: ['note'], name: 'a' }),
        frameLogger({ logger, when: (f) => f.type === 'note', name: 'b' }),
        frameLogger({ logger, direction: 'up', name: 'c' }),
      ),
      [Frames.text('t'), Frames.app('note', 1)],
    )
    expect(types(out)).toEqual(['start', 'text', 'note', 'end'])
    expect(lines.map((l) => (l.split(' ')[0] ?? '').split('/').pop())).toEqual(['a', 'b'])
  })

  it('defaults to console.log', async () => {
    const spy = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      await collect(frameLogger(), [Frames.text('x')])
      expect(spy).toHaveBeenCalledWith(expect.stringContaining('Frame: TextFrame'))
    } finally {
      spy.mockRestore()
    }
  })

  it('a throwing logger reports an error and the frame still passes', async () => {
    const { out, ups } = await collect(
      frameLogger({
        logger: () => {
          throw new Error('log down')
        },
      }),
      [Frames.text('x')],
    )
    expect(texts(out)).toEqual(['x'])
    expect(ups.some((f) => f.kind === 'system' && f.type === 'error' && f.error === 'log down')).toBe(true)
  })

  it('rejects bad options', () => {
    expect(() => frameLogger({ logger: 'x' as never })).toThrow(TypeError)
    expect(() => frameLogger({ include: [1] as never })).toThrow(TypeError)
    expect(() => frameLogger({ prefix: 3 as never })).toThrow(TypeError)
  })
})
