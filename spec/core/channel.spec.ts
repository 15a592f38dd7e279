import fc from 'fast-check'
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

  it('lets a blocked producer in once the buffer drained to half its capacity, then as many as fit', async () => {
    const c = new Channel<number>(8)
    expect(c.lowWater).toBe(4)
    for (let i = 0; i < 8; i++) expect(c.push(i)).toBeUndefined()
    const admitted: number[] = []
    const waits = [8, 9, 10].map((v) => c.push(v)?.then(() => admitted.push(v)))
    for (let i = 0; i < 3; i++) expect(c.tryNext()).toEqual({ done: false, value: i })
    await Promise.resolve()
    expect(admitted).toEqual([])
    expect(c.size).toBe(8)
    expect(c.tryNext()).toEqual({ done: false, value: 3 })
    await Promise.all(waits)
    expect(admitted).toEqual([8, 9, 10])
    const rest: number[] = []
    for (let r = c.tryNext(); r !== undefined && r.done !== true; r = c.tryNext()) rest.push(r.value)
    expect(rest).toEqual([4, 5, 6, 7, 8, 9, 10])
  })

  it('capacity 1 still lets the producer in as soon as the slot is free', async () => {
    const c = new Channel<number>(1)
    expect(c.lowWater).toBe(0)
    c.push(1)
    let admitted = false
    const w = c.push(2)?.then(() => (admitted = true))
    expect(c.tryNext()).toEqual({ done: false, value: 1 })
    await w
    expect(admitted).toBe(true)
  })

  it('keeps bounds and order and loses no wake-up under random producers, readers and removals (property)', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), producer: fc.integer({ min: 0, max: 2 }) }),
      fc.constant({ kind: 'take' as const }),
      fc.constant({ kind: 'read' as const }),
      fc.constant({ kind: 'priority' as const }),
      fc.record({ kind: fc.constant('remove' as const), mod: fc.integer({ min: 2, max: 5 }) }),
      fc.constant({ kind: 'tick' as const }),
    )
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 9 }), fc.array(op, { maxLength: 80 }), async (capacity, ops) => {
        const c = new Channel<number>(capacity)
        let nextValue = 0
        /** Per producer: values pushed in order, and whether it is blocked (a producer awaits its push). */
        const producers = [0, 1, 2].map(() => ({ queue: [] as number[], blocked: false }))
        const pushOrder: number[] = []
        const removed = new Set<number>()
        const priorityValues = new Set<number>()
        const got: number[] = []
        const pendingReads: Promise<void>[] = []
        const inside = c as unknown as { buffer: { length: number }; writers: { length: number } }
        const settle = async (): Promise<void> => {
          for (let i = 0; i < 5; i++) await Promise.resolve()
        }
        const record = (v: number): void => {
          got.push(v)
        }
        const check = (): void => {
          // Bounded: the normal lane never holds more than the capacity.
          expect(inside.buffer.length).toBeLessThanOrEqual(capacity)
          // No lost wake-up: a producer waits only while the lane is above the low-water mark.
          if (inside.writers.length > 0) expect(inside.buffer.length).toBeGreaterThan(c.lowWater)
        }
        const startPush = (p: number): void => {
          const producer = producers[p]
          if (producer === undefined || producer.blocked) return
          const v = nextValue++
          pushOrder.push(v)
          const w = c.push(v)
          if (w === undefined) return
          producer.blocked = true
          void w.then(() => {
            producer.blocked = false
          })
        }
        for (const o of ops) {
          if (o.kind === 'push') startPush(o.producer)
          else if (o.kind === 'take') {
            const r = c.tryNext()
            if (r !== undefined && r.done !== true) record(r.value)
          } else if (o.kind === 'read') {
            // A read takes its place in the order when it is issued, even if its value comes later.
            const slot = got.length
            got.push(-1)
            pendingReads.push(
              c.next().then((r) => {
                got[slot] = r.done === true ? -1 : r.value
              }),
            )
          } else if (o.kind === 'priority') {
            const v = nextValue++
            priorityValues.add(v)
            c.pushPriority(v)
          } else if (o.kind === 'remove') {
            for (const v of c.removeWhere((x) => !priorityValues.has(x) && x % o.mod === 0)) removed.add(v)
          } else await settle()
          check()
        }
        // Drain: every blocked producer must be let in, every pending read served, nothing lost.
        for (let guard = 0; guard < 10_000; guard++) {
          await settle()
          const r = c.tryNext()
          if (r !== undefined && r.done !== true) record(r.value)
          else if (producers.every((p) => !p.blocked)) break
          check()
        }
        expect(producers.every((p) => !p.blocked)).toBe(true)
        c.close()
        await Promise.all(pendingReads)
        const normal = got.filter((v) => v !== -1 && !priorityValues.has(v))
        const expected = pushOrder.filter((v) => !removed.has(v))
        expect(normal).toEqual(expected)
        const prio = got.filter((v) => priorityValues.has(v))
        expect(prio).toEqual([...priorityValues].sort((a, b) => a - b))
      }),
      { numRuns: 300 },
    )
  })
})
