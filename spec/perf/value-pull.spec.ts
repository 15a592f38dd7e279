/**
 * The input queue hands values over without a result object (`tryValue`) and reads an on-demand source
 * (`refill`) only when its consumer finds it empty: the same order, lanes, wake-ups and end as `tryNext`.
 */
import { describe, expect, it } from 'vitest'
import { Channel, type InputSource } from '../../lib/internal/channel.js'

describe('Channel.tryValue', () => {
  it('takes the priority lane first, then the normal lane, reporting each delivery', () => {
    const ch = new Channel<number>(4)
    const delivered: number[] = []
    ch.onDeliver = (v) => delivered.push(v)
    ch.push(1)
    ch.push(2)
    ch.pushPriority(9)
    expect([ch.tryValue(), ch.tryValue(), ch.tryValue(), ch.tryValue()]).toEqual([9, 1, 2, undefined])
    expect(delivered).toEqual([9, 1, 2])
    ch.close()
    expect(ch.tryValue()).toBeUndefined()
    expect(ch.tryNext()).toEqual({ done: true, value: undefined })
  })

  it('lets a blocked producer in once drained to the low-water mark, as tryNext does', async () => {
    const ch = new Channel<number>(4)
    for (let i = 0; i < 4; i++) expect(ch.push(i)).toBeUndefined()
    let admitted = false
    void ch.push(4)?.then(() => (admitted = true))
    expect(ch.tryValue()).toBe(0)
    expect(ch.tryValue()).toBe(1)
    await Promise.resolve()
    expect(admitted).toBe(true)
    expect([ch.tryValue(), ch.tryValue(), ch.tryValue(), ch.tryValue()]).toEqual([2, 3, 4, undefined])
  })

  it('reads an on-demand source only when empty: a value handed over at once, or what the source stored', () => {
    const ch = new Channel<number>(2)
    const script: (() => number | undefined)[] = [
      () => 10,
      () => {
        ch.pushPriority(20)
        return undefined
      },
      () => {
        ch.push(30)
        ch.close()
        return undefined
      },
    ]
    let reads = 0
    const source: InputSource<number> = { read: () => (script[reads++] as () => number | undefined)() }
    ch.refill = source
    ch.push(1)
    expect(ch.tryValue()).toBe(1)
    expect(reads).toBe(0)
    expect(ch.tryValue()).toBe(10)
    expect(ch.tryNext()).toEqual({ done: false, value: 20 })
    expect(ch.tryValue()).toBe(30)
    expect(reads).toBe(3)
    // Closed and drained: the source is not read again.
    expect(ch.tryValue()).toBeUndefined()
    expect(ch.tryNext()).toEqual({ done: true, value: undefined })
    expect(reads).toBe(3)
  })
})
