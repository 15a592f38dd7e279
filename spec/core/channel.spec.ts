import { describe, expect, it } from 'vitest'
import { Channel, Deque } from '../../lib/internal/channel.js'

describe('Deque', () => {
  it('is a FIFO that grows and supports unshift and removeWhere', () => {
    const d = new Deque<number>(2)
    for (let i = 0; i < 10; i++) d.push(i)
    d.unshift(-1)
    expect(d.length).toBe(11)
    expect(d.shift()).toBe(-1)
    expect(d.removeWhere((v) => v % 2 === 1)).toEqual([1, 3, 5, 7, 9])
    expect(d.toArray()).toEqual([0, 2, 4, 6, 8])
  })
})

describe('Channel', () => {
  it('delivers in FIFO order, priority lane first', async () => {
    const c = new Channel<string>(4)
    c.push('a')
    c.push('b')
    c.pushPriority('!')
    c.close()
    const got: string[] = []
    for await (const v of c) got.push(v)
    expect(got).toEqual(['!', 'a', 'b'])
  })

  it('makes producers wait while full and admits them in order', async () => {
    const c = new Channel<number>(1)
    expect(c.push(1)).toBeUndefined()
    const admitted: number[] = []
    const w2 = c.push(2)?.then(() => admitted.push(2))
    const w3 = c.push(3)?.then(() => admitted.push(3))
    expect(c.size).toBe(3)
    expect((await c.next()).value).toBe(1)
    await w2
    expect(admitted).toEqual([2])
    expect((await c.next()).value).toBe(2)
    await w3
    expect((await c.next()).value).toBe(3)
  })

  it('hands a value straight to a waiting reader', async () => {
    const c = new Channel<number>(1)
    const pending = c.next()
    c.push(7)
    expect(await pending).toEqual({ done: false, value: 7 })
  })

  it('abort drops everything, releases producers and ends readers', async () => {
    const c = new Channel<number>(1)
    c.push(1)
    const blocked = c.push(2)
    c.abort()
    await blocked
    expect(await c.next()).toEqual({ done: true, value: undefined })
    expect(c.push(3)).toBeUndefined()
    expect(c.size).toBe(0)
  })

  it('abort with an error rejects the reader', async () => {
    const c = new Channel<number>(1)
    const pending = c.next()
    c.abort(new Error('x'))
    await expect(pending).rejects.toThrow('x')
  })

  it('accepts priority values after close until the consumer has drained it', async () => {
    const c = new Channel<string>(4)
    c.push('end')
    c.close()
    c.pushPriority('interrupt')
    expect((await c.next()).value).toBe('interrupt')
    expect((await c.next()).value).toBe('end')
    c.pushPriority('late')
    expect((await c.next()).done).toBe(true)
  })

  it('removeWhere also removes values of blocked producers and admits the rest', async () => {
    const c = new Channel<number>(1)
    c.push(1)
    const p2 = c.push(2)
    const p3 = c.push(3)
    expect(c.removeWhere((v) => v === 1 || v === 2)).toEqual([1, 2])
    await Promise.all([p2, p3])
    expect((await c.next()).value).toBe(3)
  })

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new Channel(0)).toThrow(RangeError)
    expect(() => new Channel(1.5)).toThrow(RangeError)
  })
})
