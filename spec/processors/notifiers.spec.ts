import { describe, expect, it } from 'vitest'
import { pipeline } from '../../lib/core/pipeline.js'
import * as Frames from '../../lib/frames/index.js'
import { EventNotifier } from '../../lib/notifiers/event-notifier.js'
import { notifyOn } from '../../lib/notifiers/notify-on.js'
import { collect, pushUpOnStart, sampleFrames, types } from './run-helpers.js'

describe('EventNotifier', () => {
  it('a notify with no waiter is remembered and consumed by the next wait', async () => {
    const n = new EventNotifier()
    n.notify()
    expect(n.isSet).toBe(true)
    await n.wait()
    expect(n.isSet).toBe(false)
  })

  it('several notifies before a wait coalesce into one', async () => {
    const n = new EventNotifier()
    n.notify()
    n.notify()
    await n.wait()
    let second = false
    const w = n.wait().then(() => (second = true))
    await Promise.resolve()
    expect(second).toBe(false)
    n.notify()
    await w
    expect(second).toBe(true)
  })

  it('one notify wakes every current waiter', async () => {
    const n = new EventNotifier()
    const all = Promise.all([n.wait(), n.wait(), n.wait()])
    expect(n.waiting).toBe(3)
    n.notify()
    await all
    expect(n.waiting).toBe(0)
    expect(n.isSet).toBe(false)
  })

  it('wait(signal) rejects with the reason on abort and forgets the waiter', async () => {
    const n = new EventNotifier()
    const c = new AbortController()
    const w = n.wait(c.signal)
    c.abort(new Error('gone'))
    await expect(w).rejects.toThrow('gone')
    expect(n.waiting).toBe(0)
    n.notify()
    expect(n.isSet).toBe(true)
    await expect(n.wait(AbortSignal.abort())).rejects.toBeDefined()
  })

  it('wait(bad signal) rejects with a TypeError', async () => {
    await expect(new EventNotifier().wait({} as never)).rejects.toThrow(TypeError)
  })
})

describe('notifyOn', () => {
  it('notifies on matching frames of both directions and forwards everything', async () => {
    const n = new EventNotifier()
    let count = 0
    const real = n.notify.bind(n)
    n.notify = () => {
      count++
      real()
    }
    const s = sampleFrames()
    const { out, ups } = await collect(
      pipeline(notifyOn(n, (f) => f.type === 'syncNotify' || f.type === 'note'), pushUpOnStart(() => [s.system, s.control, s.data, s.app])),
      [Frames.metrics(), Frames.syncNotify(), Frames.text('t'), Frames.app('note', 1)],
    )
    expect(count).toBe(4)
    expect(types(out)).toEqual(['start', 'metrics', 'syncNotify', 'text', 'note', 'end'])
    expect(ups.map((f) => f.id)).toEqual([s.system.id, s.control.id, s.data.id, s.app.id])
  })

  it('consume drops matching control/data/app frames but never system frames or start/end', async () => {
    const n = new EventNotifier()
    const { out } = await collect(notifyOn(n, () => true, { consume: true }), [Frames.metrics(), Frames.syncNotify(), Frames.text('t'), Frames.app('note', 1)])
    expect(types(out)).toEqual(['start', 'metrics', 'end'])
  })

  it('a throwing predicate is reported and the frame still passes', async () => {
    const { out, ups } = await collect(
      notifyOn(new EventNotifier(), (f) => {
        if (f.kind === 'data' && f.type === 'text') throw new Error('pred')
        return false
      }),
      [Frames.text('t')],
    )
    expect(types(out)).toContain('text')
    expect(ups.some((f) => f.kind === 'system' && f.type === 'error' && f.error === 'pred')).toBe(true)
  })

  it('rejects bad arguments', () => {
    expect(() => notifyOn(null as never, () => true)).toThrow(TypeError)
    expect(() => notifyOn(new EventNotifier(), 'x' as never)).toThrow(TypeError)
  })
})
