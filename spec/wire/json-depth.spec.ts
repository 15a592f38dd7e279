import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nestsDeeperThan } from '../../lib/wire/json-depth.js'

/** The nesting depth of a parsed JSON value: `[[1]]` is 2. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0
  const children = Array.isArray(value) ? value : Object.values(value)
  return 1 + children.reduce<number>((m, c) => Math.max(m, depthOf(c)), 0)
}

describe('nestsDeeperThan (the depth check before JSON.parse)', () => {
  it('agrees with the depth of the parsed value for any JSON text, strings full of brackets and escapes included', () => {
    const tricky = fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', '[{"', 'x')
    const str = fc.oneof(fc.string(), fc.array(tricky, { maxLength: 8 }).map((parts) => parts.join('')))
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, str, fc.integer(), fc.constant(null), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(str, tie('v'), { maxKeys: 3 })),
    })).v
    fc.assert(
      fc.property(value, fc.nat({ max: 8 }), fc.boolean(), (v, max, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined)
        expect(nestsDeeperThan(text, max)).toBe(depthOf(v) > max)
      }),
      { numRuns: 500 },
    )
  })

  it('leaves text that is not JSON to the parser (never throws)', () => {
    expect(nestsDeeperThan('"unterminated [[[[', 1)).toBe(false)
    expect(nestsDeeperThan(']]]][', 1)).toBe(false)
    expect(nestsDeeperThan('', 0)).toBe(false)
  })
})
