/** Processors shared by the law specs. */
import fc from 'fast-check'
import type { Frame, ProcessorFn } from '../../lib/index.js'
import { arbProcessor } from '../../lib/testing/index.js'

const PRINT = Symbol.for('fast-check/toStringMethod')

/** A processor that throws (non-fatally) on text frames of length `n` mod 3: the stage reports it and restarts. */
export const failsOn = (n: number): ProcessorFn =>
  Object.defineProperty(
    async function* failsOn(source: AsyncIterable<Frame>) {
      for await (const f of source) {
        if (f.kind === 'data' && f.type === 'text' && f.text.length % 3 === n) throw new Error(`length ${f.text.length}`)
        yield f
      }
    },
    PRINT,
    { value: () => `failsOn(${n})` },
  )

/** Random well-behaved processors, and now and then one that fails. */
export const arbStage = fc.oneof({ arbitrary: arbProcessor(), weight: 6 }, { arbitrary: fc.nat({ max: 2 }).map(failsOn), weight: 1 })
