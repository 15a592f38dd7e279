import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { Frames, map, named, pipeline, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'
import { checkEquivalent, checkLaw, checkLifecycleLaws, describeProcessor, failureText, LAWS, lawProperty, type LawName } from '../../lib/testing/index.js'

const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
const passthrough: Processor = async function* passthrough(source) {
  for await (const f of source) yield f
}

/** The error message of a law check that must fail. */
async function failure(law: LawName, p: ProcessorFn, numRuns = 30): Promise<string> {
  try {
    await checkLaw(law, p, { numRuns })
  } catch (err) {
    return (err as Error).message
  }
  throw new Error(`law ${law} unexpectedly held`)
}

const emitsAfterEnd: Processor = async function* emitsAfterEnd(source) {
  for await (const f of source) {
    yield f
    if (f.type === 'end') yield Frames.text('late')
  }
}
const swallowsEnd: Processor = async function* swallowsEnd(source) {
  for await (const f of source) if (f.type !== 'end') yield f
}
const greetsBeforeStart: Processor = async function* greetsBeforeStart(source) {
  yield Frames.text('hello')
  yield* source
}
const changesStart: Processor = async function* changesStart(source) {
  for await (const f of source) yield f.kind === 'control' && f.type === 'start' ? Frames.start({ allowInterruptions: !f.allowInterruptions }) : f
}
const doubleStart: Processor = async function* doubleStart(source) {
  for await (const f of source) {
    yield f
    if (f.type === 'start') yield Frames.start()
  }
}
/** Ignores return(): keeps its source open when the consumer stops. */
const ignoresReturn: ProcessorFn = (source) => {
  const it = source[Symbol.asyncIterator]()
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => it.next(),
      return: async () => ({ done: true as const, value: undefined }),
    }),
  }
}
/** Reads one more frame from its source after being returned. */
const readsAfterClose: ProcessorFn = (source) => {
  const it = source[Symbol.asyncIterator]()
  let closed = false
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => (closed ? Promise.resolve({ done: true as const, value: undefined }) : it.next()),
      return: async () => {
        closed = true
        await it.return?.()
        await it.next()
        return { done: true as const, value: undefined }
      },
    }),
  }
}
const leaksRejection: Processor = async function* leaksRejection(source) {
  for await (const f of source) {
    if (f.kind === 'data' && f.type === 'text') void Promise.reject(new Error('forgotten'))
    yield f
  }
}
const hangs: Processor = async function* hangs(source) {
  for await (const f of source) {
    yield f
    if (f.type === 'sync') await new Promise(() => {})
  }
}
const throwsOnText: Processor = async function* throwsOnText(source) {
  for await (const f of source) {
    if (f.kind === 'data' && f.type === 'text') throw new Error('no text please')
    yield f
  }
}
const endless: Processor = async function* endless() {
  for (;;) yield Frames.text('again')
}
/** Sends text on in pairs; at end it forwards end and forgets an unpaired text (the tail). */
const losesTail: Processor = async function* losesTail(source) {
  let held: Frame | undefined
  for await (const f of source) {
    if (f.kind !== 'data' || f.type !== 'text') {
      yield f
      continue
    }
    if (held === undefined) held = f
    else {
      yield Frames.text(held.kind === 'data' && held.type === 'text' ? held.text + f.text : f.text)
      held = undefined
    }
  }
}
/** Joins text until end, and ignores interruptions: half a sentence of the interrupted turn leaks into the next. */
const keepsAcrossInterruption: Processor = async function* keepsAcrossInterruption(source) {
  let text = ''
  for await (const f of source) {
    if (f.kind === 'data' && f.type === 'text') {
      text += f.text
      continue
    }
    if (f.type === 'end' && text !== '') yield Frames.text(text)
    yield f
  }
}
/** The same, but an interruption starts over. */
const resetsOnInterruption: Processor = async function* resetsOnInterruption(source) {
  let text = ''
  for await (const f of source) {
    if (f.kind === 'data' && f.type === 'text') {
      text += f.text
      continue
    }
    if (f.type === 'startInterruption') text = ''
    if (f.type === 'end' && text !== '') yield Frames.text(text)
    yield f
  }
}
const texts = fc.array(fc.string({ minLength: 1, maxLength: 4 }).map((t) => Frames.text(t)), { minLength: 1, maxLength: 8 })

describe('lifecycle laws', () => {
  it('hold for well-behaved processors: a fused step, a generator, a pipeline', async () => {
    await checkLifecycleLaws(upper, { numRuns: 40 })
    await checkLifecycleLaws(passthrough, { numRuns: 40 })
    await checkLifecycleLaws(pipeline(upper, passthrough, upper), { numRuns: 40 })
  })

  it('passesLifecycle catches a missing or late end, output before start, a changed or repeated start', async () => {
    expect(await failure('passesLifecycle', emitsAfterEnd)).toMatch(/last output frame must be end/)
    expect(await failure('passesLifecycle', swallowsEnd)).toMatch(/last output frame must be end/)
    expect(await failure('passesLifecycle', greetsBeforeStart)).toMatch(/first output frame must be start/)
    expect(await failure('passesLifecycle', changesStart)).toMatch(/start frame was changed/)
    expect(await failure('passesLifecycle', doubleStart)).toMatch(/start must be emitted once/)
    expect(await failure('passesLifecycle', throwsOnText)).toMatch(/processor failed: no text please/)
    expect(await failure('passesLifecycle', endless, 3)).toMatch(/past 10000 frames/)
  })

  it('noEmitAfterEnd catches frames after end and outputs that do not stay done', async () => {
    const message = await failure('noEmitAfterEnd', emitsAfterEnd)
    expect(message).toMatch(/frames after end: \[TextFrame#\d+\(text: "late"\)\]/)
    expect(message).toMatch(/Counterexample/)
    expect(await failure('noEmitAfterEnd', ignoresReturn)).toMatch(/did not stay done/)
  })

  it('teardownOnBreak catches a source left open and reads after close', async () => {
    expect(await failure('teardownOnBreak', ignoresReturn)).toMatch(/source was neither returned nor read to its end/)
    expect(await failure('teardownOnBreak', readsAfterClose)).toMatch(/read 1 time\(s\) after it was closed/)
  })

  it('flushesAtEnd catches a processor that silently loses its tail at end (the other laws do not)', async () => {
    await checkLifecycleLaws(losesTail, { laws: ['passesLifecycle', 'noEmitAfterEnd', 'teardownOnBreak', 'noUnhandledRejection'], numRuns: 40 })
    const message = await failure('flushesAtEnd', losesTail, 60)
    expect(message).toMatch(/^law flushesAtEnd failed for processor losesTail: TextFrame#\d+\(text: ".*"\), the last frame before end, was lost at end/)
    expect(message).toMatch(/In the counterexample \[frames, k\], k = \d+: the first 1 \+ \(\d+ mod n\) of the n frames are followed by end/)
    // A filter that always drops the frame loses nothing: it does not depend on what follows.
    await checkLaw('flushesAtEnd', pipeline(map((f) => f), async function* dropsText(source) {
      for await (const f of source) if (f.kind !== 'data') yield f
    }), { numRuns: 40 })
  })

  it('freshAfterInterruption catches a processor that keeps state across an interruption (the other laws do not)', async () => {
    await checkLifecycleLaws(keepsAcrossInterruption, { laws: ['passesLifecycle', 'noEmitAfterEnd', 'teardownOnBreak', 'noUnhandledRejection', 'flushesAtEnd'], numRuns: 40 })
    const message = await checkLaw('freshAfterInterruption', keepsAcrossInterruption, { numRuns: 60, frames: texts }).then(
      () => 'held',
      (err: Error) => err.message,
    )
    expect(message).toMatch(/^law freshAfterInterruption failed for processor keepsAcrossInterruption: after an interruption following \d+ frame\(s\)/)
    expect(message).toMatch(/state from before the interruption was kept/)
    expect(message).toMatch(/k = \d+: the interruption comes after the first \d+ mod \(n \+ 1\) of the n frames/)
    await checkLaw('freshAfterInterruption', resetsOnInterruption, { numRuns: 60, frames: texts })
  })

  it('freshAfterInterruption interrupts as a task does: ctx.signal aborts and in-flight output has come out first', async () => {
    const seen: Array<{ aborted: boolean; frames: number }> = []
    let count = 0
    const watcher: ProcessorFn = async function* watcher(source, ctx) {
      const signal = ctx.signal
      for await (const f of source) {
        count++
        if (f.type === 'startInterruption') seen.push({ aborted: signal.aborted, frames: count })
        yield f
      }
      count = 0
    }
    await checkLaw('freshAfterInterruption', watcher, { numRuns: 5, frames: fc.constant([Frames.text('a'), Frames.text('b')]) })
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((s) => s.aborted)).toBe(true)
  })

  it('names an anonymous processor by the start of its source', async () => {
    const message = await failure(
      'passesLifecycle',
      (() => async function* (source: AsyncIterable<Frame>) {
        for await (const f of source) if (f.type !== 'end') yield f
      })(),
    )
    expect(message).toMatch(/failed for processor anonymous \(async function\* ?\(source\) \{ for await/)
    const differs = await checkEquivalent(upper, (source: AsyncIterable<Frame>) => source, { numRuns: 20 }).then(
      () => 'same',
      (err: Error) => err.message,
    )
    expect(differs).toMatch(/^the processors map and anonymous \(\(source\) => source\) behave differently: downstream frames differ/)
    expect(describeProcessor(named('tts', passthrough))).toBe('tts')
  })

  it('a hanging processor fails with a timeout instead of hanging the check', async () => {
    const message = await checkLaw('passesLifecycle', hangs, {
      numRuns: 20,
      timeoutMs: 20,
      frames: fc.constant(null).map(() => [Frames.sync()]),
    }).then(
      () => 'held',
      (err: Error) => err.message,
    )
    expect(message).toMatch(/did not settle within 20 ms/)
  })

  it('noUnhandledRejection catches a rejection nobody handles', async () => {
    // The suite's own listeners would also see the rejection: take them off while the law listens.
    const others = process.listeners('unhandledRejection')
    for (const l of others) process.off('unhandledRejection', l)
    let message: string
    try {
      message = await failure('noUnhandledRejection', leaksRejection, 20)
    } finally {
      for (const l of others) process.on('unhandledRejection', l)
    }
    expect(message).toMatch(/unhandled rejection\(s\): Error: forgotten/)
    expect(process.listeners('unhandledRejection')).toEqual(others)
  })

  it('removes its listener after each case', async () => {
    const before = process.listenerCount('unhandledRejection')
    await checkLaw('noUnhandledRejection', upper, { numRuns: 5 })
    expect(process.listenerCount('unhandledRejection')).toBe(before)
  })

  it('runs on real timers while a test has fake timers installed', async () => {
    vi.useFakeTimers()
    try {
      await checkLifecycleLaws(passthrough, { numRuns: 10 })
    } finally {
      vi.useRealTimers()
    }
  })

  it('lawProperty gives plain fast-check properties; options pick laws, frames and start', async () => {
    await fc.assert(lawProperty('teardownOnBreak', upper), { numRuns: 20 })
    const startSeen: boolean[] = []
    const spy: ProcessorFn = async function* spy(source, ctx) {
      startSeen.push(ctx.start?.allowInterruptions === true)
      yield* source
    }
    await checkLifecycleLaws(spy, { laws: ['passesLifecycle'], numRuns: 5, start: { allowInterruptions: true } })
    expect(startSeen).toEqual([true, true, true, true, true])
    expect(failureText(new Error('outer', { cause: new Error('inner reason') }))).toBe('inner reason\nouter')
    expect(LAWS).toEqual(['passesLifecycle', 'noEmitAfterEnd', 'teardownOnBreak', 'noUnhandledRejection', 'flushesAtEnd', 'freshAfterInterruption'])
  })

  it('rejects bad arguments with a TypeError', async () => {
    await expect(checkLifecycleLaws('x' as never)).rejects.toThrow(TypeError)
    await expect(checkLifecycleLaws(upper, { laws: [] })).rejects.toThrow(TypeError)
    await expect(checkLifecycleLaws(upper, { laws: ['nope' as LawName] })).rejects.toThrow(/unknown law/)
    expect(() => lawProperty('nope' as LawName, upper)).toThrow(TypeError)
  })
})

describe('probe frames', () => {
  it('are the generated frames, between start and end', async () => {
    const seen: Frame[][] = []
    const recorder: Processor = async function* recorder(source) {
      const got: Frame[] = []
      for await (const f of source) {
        got.push(f)
        yield f
      }
      seen.push(got)
    }
    const body = [Frames.text('a'), Frames.sync()]
    await checkLaw('passesLifecycle', recorder, { numRuns: 1, frames: fc.constant(body) })
    expect(seen[0]?.map((f) => f.type)).toEqual(['start', 'text', 'sync', 'end'])
    expect(seen[0]?.slice(1, 3)).toEqual(body)
  })
})
