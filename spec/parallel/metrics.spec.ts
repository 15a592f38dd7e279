import { describe, expect, it } from 'vitest'
import { Frames, map, measured, parallel, pipeline, syncParallel, type Frame, type Processor } from '../../lib/index.js'
import { collect, textFrames } from '../helpers/collect.js'

const echo = (name: string): Processor =>
  Object.defineProperty(
    async function* (source: AsyncIterable<Frame>) {
      yield* source
    },
    'name',
    { value: name },
  ) as Processor

describe('metrics inside parallel branches', () => {
  it.each([
    ['parallel', parallel],
    ['syncParallel', syncParallel],
  ] as const)('the initial metrics frame lists measuring processors inside %s branches', async (_, combinator) => {
    const p = pipeline(measured(echo('stt')), combinator(measured(echo('llm')), [map((f) => f), measured(echo('vision'))]))
    const { out } = await collect(p, textFrames(1), { enableMetrics: true })
    const initial = out.find(Frames.is('metrics'))
    expect(initial).toBeDefined()
    const names = initial?.ttfb.map((m) => m.processor.split('/').at(-1))
    expect(names).toEqual(['stt', 'llm', 'vision'])
    expect(initial?.ttfb.every((m) => m.value === 0)).toBe(true)
    expect(initial?.processing.map((m) => m.processor)).toEqual(initial?.ttfb.map((m) => m.processor))
  })
})
