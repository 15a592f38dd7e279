/**
 * Random pipelines under random operations (frames, interruptions, cancel, stop, end, at random times): whatever
 * happens, the task finishes — cancelled or stopped by the first cancel/stop that came before it finished (a pending
 * `end` does not protect a task from a later cancel), else ended — `start` is first, an ended task's last frame is
 * its only `end`, and every processor instance that started has run its `finally`.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buffered, Frames, parallel, pipeline, PipelineTask, type Frame, type ProcessorFn } from '../../lib/index.js'
import { arbProcessor } from '../../lib/testing/index.js'
import { sleep, tick } from '../helpers/collect.js'

interface Probe {
  started: number
  finished: number
}

/** A pass-through stage that counts its instances and their `finally` runs; may await (honouring the signal) and throw. */
function probe(p: Probe, opts: { delay: boolean; failOn: number | undefined }): ProcessorFn {
  return async function* probed(source, ctx) {
    p.started++
    try {
      for await (const f of source) {
        if (opts.delay && f.kind === 'data') await sleep(1, ctx.signal)
        if (opts.failOn !== undefined && f.kind === 'data' && f.type === 'text' && f.text.length % 4 === opts.failOn) {
          throw new Error(`probe rejects ${f.text}`)
        }
        yield f
      }
    } finally {
      p.finished++
    }
  }
}

type Op =
  | { kind: 'text'; text: string }
  | { kind: 'interrupt' }
  | { kind: 'cancel' }
  | { kind: 'stop' }
  | { kind: 'end' }
  | { kind: 'wait'; ms: number }

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 5 }).map((text): Op => ({ kind: 'text', text })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'interrupt' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'cancel' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'stop' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'end' }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map((ms): Op => ({ kind: 'wait', ms })) },
)

const arbShape = fc.record({
  stages: fc.array(arbProcessor(), { minLength: 1, maxLength: 3 }),
  delay: fc.boolean(),
  failOn: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  wrap: fc.constantFrom('none', 'parallel', 'buffered'),
  allowInterruptions: fc.boolean(),
  ops: fc.array(arbOp, { maxLength: 25 }),
})

describe('chaos', () => {
  it('every run finishes cleanly whatever happens when', async () => {
    await fc.assert(
      fc.asyncProperty(arbShape, async ({ stages, delay, failOn, wrap, allowInterruptions, ops }) => {
        const probes: Probe[] = [
          { started: 0, finished: 0 },
          { started: 0, finished: 0 },
        ]
        const [first, second] = probes as [Probe, Probe]
        const core = pipeline(probe(first, { delay, failOn }), ...stages, probe(second, { delay: false, failOn: undefined }))
        const body = wrap === 'parallel' ? parallel(core, probe(second, { delay, failOn: undefined })) : wrap === 'buffered' ? buffered(core, { capacity: 2 }) : core
        const task = new PipelineTask(body, { allowInterruptions, cancelTimeoutMs: 100, inputCapacity: 4 })
        const output = task.frames()
        const done = task.run()
        const got: Frame[] = []
        const reader = (async () => {
          for await (const f of output) got.push(f)
        })()
        let expected: 'ended' | 'cancelled' | 'stopped' | undefined
        for (const op of ops) {
          if (task.hasFinished()) break
          switch (op.kind) {
            case 'text':
              await Promise.race([task.queueFrame(Frames.text(op.text)), done])
              break
            case 'interrupt':
              task.interrupt()
              break
            case 'cancel':
              expected ??= 'cancelled'
              void task.cancel()
              break
            case 'stop':
              expected ??= 'stopped'
              void task.stop()
              break
            case 'end':
              task.stopWhenDone()
              break
            case 'wait':
              await sleep(op.ms)
              break
          }
        }
        if (expected === undefined) {
          expected = 'ended'
          task.stopWhenDone()
        }
        const result = await done
        await reader
        await tick()
        expect(result.status).toBe(expected)
        if (got.length > 0) expect(got[0]?.type).toBe('start')
        if (result.status === 'ended') {
          expect(got.at(-1)?.type).toBe('end')
          expect(got.filter(Frames.is('end'))).toHaveLength(1)
        }
        for (const p of probes) expect(p.finished).toBe(p.started)
      }),
      { numRuns: 150 },
    )
  }, 60_000)
})
