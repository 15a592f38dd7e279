import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { detachedContext } from '../../lib/core/context.js'
import { FatalError, Frames, PipelineTask, pipeline, type Frame, type ProcessorFn } from '../../lib/index.js'
import { Channel } from '../../lib/internal/channel.js'
import { idle } from '../../lib/processors/idle.js'
import { userIdle } from '../../lib/processors/user-idle.js'
import { texts, types } from '../helpers/collect.js'

const T = 1000

/** Runs `processor` over a source fed by hand; collects its output and upstream frames. */
function harness(processor: ProcessorFn, signal?: AbortSignal) {
  const source = new Channel<Frame>(1000)
  const up: Frame[] = []
  const ctx = detachedContext('test', { onUpstream: (f) => up.push(f), ...(signal === undefined ? {} : { signal }) })
  const out: Frame[] = []
  const iterator = processor(source, ctx)[Symbol.asyncIterator]()
  let finished = false
  const reading = (async () => {
    for (;;) {
      const r = await iterator.next()
      if (r.done === true) break
      out.push(r.value)
    }
    finished = true
  })()
  return {
    out,
    up,
    iterator,
    push: (...frames: Frame[]) => frames.forEach((f) => void source.push(f)),
    close: () => source.close(),
    done: async () => {
      await reading
      return finished
    },
  }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('idle', () => {
  it('does not fire before start, then fires every timeoutMs of silence', async () => {
    const onIdle = vi.fn()
    const h = harness(idle({ timeoutMs: T, onIdle }))
    await vi.advanceTimersByTimeAsync(5 * T)
    expect(onIdle).not.toHaveBeenCalled()
    h.push(Frames.start())
    await vi.advanceTimersByTimeAsync(T - 1)
    expect(onIdle).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(onIdle).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(2 * T)
    expect(onIdle).toHaveBeenCalledTimes(3)
    h.push(Frames.end())
    h.close()
    await vi.advanceTimersByTimeAsync(0)
    expect(await h.done()).toBe(true)
    expect(types(h.out)).toEqual(['start', 'end'])
  })

  it('does not fire while frames keep arriving', async () => {
    const onIdle = vi.fn()
    const h = harness(idle({ timeoutMs: T, onIdle }))
    h.push(Frames.start())
    for (let i = 0; i < 20; i++) {
      await vi.advanceTimersByTimeAsync(T / 2)
      h.push(Frames.text(String(i)))
    }
    expect(onIdle).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(T)
    expect(texts(h.out)).toHaveLength(20)
    expect(onIdle).toHaveBeenCalledTimes(1)
    h.push(Frames.end())
    h.close()
    await h.done()
  })

  it('only frames of `types` count as activity', async () => {
    const onIdle = vi.fn()
    const h = harness(idle({ timeoutMs: T, onIdle, types: ['audioRaw'] }))
    h.push(Frames.start())
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(T / 2)
      h.push(Frames.text('not audio'))
    }
    expect(onIdle).toHaveBeenCalledTimes(2)
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(T / 2)
      h.push(Frames.audioRaw({ audio: new Uint8Array(4) }))
    }
    expect(onIdle).toHaveBeenCalledTimes(2)
    h.push(Frames.end())
    h.close()
    await h.done()
  })

  it('accepts a predicate for `types`', async () => {
    const onIdle = vi.fn()
    const h = harness(idle({ timeoutMs: T, onIdle, types: (f) => f.kind === 'app' }))
    h.push(Frames.start())
    await vi.advanceTimersByTimeAsync(T / 2)
    h.push(Frames.app('ping', 1))
    await vi.advanceTimersByTimeAsync(T / 2 + 1)
    expect(onIdle).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(T / 2)
    expect(onIdle).toHaveBeenCalledTimes(1)
    h.push(Frames.end())
    h.close()
    await h.done()
  })

  it('emits the frames the callback returns, in order with the frames passing', async () => {
    let n = 0
    const h = harness(idle({ timeoutMs: T, onIdle: () => [Frames.text(`idle${n}`), Frames.text(`again${n++}`)] }))
    h.push(Frames.start(), Frames.text('a'))
    await vi.advanceTimersByTimeAsync(T)
    h.push(Frames.text('b'))
    await vi.advanceTimersByTimeAsync(T)
    h.push(Frames.end())
    h.close()
    await vi.advanceTimersByTimeAsync(0)
    await h.done()
    expect(texts(h.out)).toEqual(['a', 'idle0', 'again0', 'b', 'idle1', 'again1'])
    expect(h.out.at(-1)?.type).toBe('end')
  })

  it('clears its timer when end passes: no timer is left and the callback never fires again', async () => {
    const onIdle = vi.fn()
    const h = harness(idle({ timeoutMs: T, onIdle }))
    h.push(Frames.start())
    await vi.advanceTimersByTimeAsync(T / 2)
    expect(vi.getTimerCount()).toBe(1)
    h.push(Frames.end())
    await vi.advanceTimersByTimeAsync(0)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(10 * T)
    expect(onIdle).not.toHaveBeenCalled()
    h.close()
    await h.done()
  })

  it('clears its timer on a cancel frame, on a cancelled run and on teardown', async () => {
    for (const how of ['cancel frame', 'signal', 'return'] as const) {
      const onIdle = vi.fn()
      const controller = new AbortController()
      const h = harness(idle({ timeoutMs: T, onIdle }), controller.signal)
      h.push(Frames.start(), Frames.text('x'))
      await vi.advanceTimersByTimeAsync(T / 2)
      expect(vi.getTimerCount()).toBe(1)
      if (how === 'cancel frame') h.push(Frames.cancel())
      else if (how === 'signal') controller.abort()
      else await h.iterator.return?.()
      await vi.advanceTimersByTimeAsync(0)
      expect(vi.getTimerCount()).toBe(0)
      await vi.advanceTimersByTimeAsync(5 * T)
      expect(onIdle).not.toHaveBeenCalled()
      h.close()
      await h.done()
    }
  })

  it('waits for a running async callback at end and sends its frames before end', async () => {
    const h = harness(
      idle({
        timeoutMs: T,
        onIdle: () => new Promise<Frame>((resolve) => setTimeout(() => resolve(Frames.text('late')), T)),
      }),
    )
    h.push(Frames.start())
    await vi.advanceTimersByTimeAsync(T + 10)
    h.push(Frames.end())
    h.close()
    await vi.advanceTimersByTimeAsync(T)
    await h.done()
    expect(types(h.out)).toEqual(['start', 'text', 'end'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('reports a failing callback upstream, naming the processor, and keeps watching', async () => {
    let calls = 0
    const h = harness(
      idle({
        timeoutMs: T,
        name: 'watch',
        onIdle: () => {
          calls++
          if (calls === 1) throw new Error('boom')
          if (calls === 2) return Promise.reject(new FatalError('worse'))
          return 42 as never
        },
      }),
    )
    h.push(Frames.start())
    await vi.advanceTimersByTimeAsync(3 * T)
    expect(calls).toBe(3)
    const errors = h.up.filter((f) => f.kind === 'system' && f.type === 'error')
    expect(errors).toHaveLength(3)
    expect(errors.map((f) => (f.kind === 'system' && f.type === 'error' ? [f.error, f.fatal, f.processor] : []))).toEqual([
      ['boom', false, 'test'],
      ['worse', true, 'test'],
      ['test: onIdle returned something that is not a frame', false, 'test'],
    ])
    h.push(Frames.end())
    h.close()
    await h.done()
  })

  it('runs inside a task and leaves no timer behind', async () => {
    const onIdle = vi.fn(() => Frames.text('nudge'))
    const task = new PipelineTask(pipeline(idle({ timeoutMs: T, onIdle })))
    const out: Frame[] = []
    const output = task.frames()
    const reading = (async () => {
      for await (const f of output) out.push(f)
    })()
    const running = task.run()
    await vi.advanceTimersByTimeAsync(T * 2.5)
    task.stopWhenDone()
    await vi.advanceTimersByTimeAsync(0)
    const result = await running
    await reading
    expect(result.status).toBe('ended')
    expect(onIdle).toHaveBeenCalledTimes(2)
    expect(texts(out)).toEqual(['nudge', 'nudge'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects bad options with a TypeError', () => {
    expect(() => idle({ timeoutMs: 0, onIdle: () => {} })).toThrow(TypeError)
    expect(() => idle({ timeoutMs: Number.NaN, onIdle: () => {} })).toThrow(TypeError)
    expect(() => idle({ timeoutMs: 10, onIdle: 'x' as never })).toThrow(TypeError)
    expect(() => idle({ timeoutMs: 10, onIdle: () => {}, types: [1] as never })).toThrow(TypeError)
    expect(() => idle(undefined as never)).toThrow(TypeError)
    expect(() => userIdle({ timeoutMs: -1, onIdle: () => {} })).toThrow(TypeError)
  })
})

describe('userIdle', () => {
  it('does not fire while frames keep arriving (the Python 0.2.12 processor does)', async () => {
    const onIdle = vi.fn()
    const h = harness(userIdle({ timeoutMs: T, onIdle }))
    h.push(Frames.start())
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(T / 2)
      h.push(Frames.text(String(i)))
    }
    expect(onIdle).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(T)
    expect(onIdle).toHaveBeenCalledTimes(1)
    h.push(Frames.end())
    h.close()
    await h.done()
  })

  it('does not fire while the user is speaking (between start- and stopInterruption)', async () => {
    const onIdle = vi.fn()
    const h = harness(userIdle({ timeoutMs: T, onIdle }))
    h.push(Frames.start())
    await vi.advanceTimersByTimeAsync(T / 2)
    h.push(Frames.startInterruption())
    await vi.advanceTimersByTimeAsync(10 * T)
    expect(onIdle).not.toHaveBeenCalled()
    // Activity while speaking does not arm it either.
    h.push(Frames.text('partial transcript'))
    await vi.advanceTimersByTimeAsync(2 * T)
    expect(onIdle).not.toHaveBeenCalled()
    h.push(Frames.stopInterruption())
    await vi.advanceTimersByTimeAsync(T - 1)
    expect(onIdle).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(onIdle).toHaveBeenCalledTimes(1)
    h.push(Frames.end())
    h.close()
    await h.done()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('ignores system frames such as metrics as user activity by default', async () => {
    const onIdle = vi.fn()
    const h = harness(userIdle({ timeoutMs: T, onIdle }))
    h.push(Frames.start())
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(T / 2)
      h.push(Frames.metrics())
    }
    expect(onIdle).toHaveBeenCalledTimes(2)
    h.push(Frames.end())
    h.close()
    await h.done()
  })

  it('counts only frames of `types` as activity when given', async () => {
    const onIdle = vi.fn()
    const h = harness(userIdle({ timeoutMs: T, onIdle, types: ['text'] }))
    h.push(Frames.start())
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(T / 2)
      h.push(Frames.sync())
    }
    expect(onIdle).toHaveBeenCalledTimes(2)
    h.push(Frames.end())
    h.close()
    await h.done()
  })
})
