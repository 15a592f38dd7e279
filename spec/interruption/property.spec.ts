import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Frames, PipelineTask, isInterruptionReport, pipeline, type Frame, type Processor } from '../../lib/index.js'
import { buffer } from '../../lib/processors/buffered.js'
import { tick } from '../helpers/collect.js'

type Op = 'text' | 'app' | 'sync' | 'syncNotify' | 'stopInterruption' | 'interrupt' | 'tick'

const opArb = fc.constantFrom<Op>('text', 'text', 'text', 'text', 'app', 'sync', 'syncNotify', 'stopInterruption', 'interrupt', 'tick')

/** A stage that takes a macrotask turn on some frames (by a cyclic pattern), ignoring the signal. */
function jitter(pattern: readonly boolean[]): Processor {
  let i = 0
  return async function* jitter(source) {
    for await (const f of source) {
      if (pattern.length > 0 && pattern[i++ % pattern.length] === true) await tick()
      yield f
    }
  }
}

const ordered = (f: Frame): boolean => f.kind !== 'system'
const droppable = (f: Frame): boolean => f.kind === 'data' || f.kind === 'app'

describe('interruption properties', () => {
  it('no frame is lost or reordered across random interruption points, except the queued data/app frames reported as dropped', async () => {
    let runsWithDrops = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.boolean(), { maxLength: 7 }),
        // A downstream that is mostly slow, so that the queues fill up.
        fc.array(fc.constantFrom(true, true, true, false), { minLength: 1, maxLength: 7 }),
        async (ops, capacities, upPattern, downPattern) => {
          const dropped: Frame[] = []
          const onDrop = (fs: readonly Frame[]): void => {
            dropped.push(...fs)
          }
          const stages: Processor[] = [jitter(upPattern)]
          for (const capacity of capacities) stages.push(buffer({ capacity, onDrop }))
          stages.push(jitter(downPattern))
          // Frames a stage handed over after an interruption in answer to input read before it are stale and dropped
          // at its boundary (rule 15): the interruption reports list them with the queue drops.
          const reported = new Set<number>()
          const onUpstream = (f: Frame): void => {
            if (isInterruptionReport(f)) for (const d of f.data.dropped) reported.add(d.id)
          }
          const task = new PipelineTask(pipeline(...stages), { allowInterruptions: true, inputCapacity: 4, onUpstream })
          const out: Frame[] = []
          const output = task.frames()
          const reading = (async () => {
            for await (const f of output) out.push(f)
          })()
          const running = task.run()

          const input: Frame[] = []
          const positionOfInput = new Map<number, number>()
          let interrupts = 0
          let lastInterruptAt = -1
          for (const op of ops) {
            if (op === 'interrupt') {
              if (task.interrupt()) interrupts++
              lastInterruptAt = input.length
              continue
            }
            if (op === 'tick') {
              await tick()
              continue
            }
            const frame =
              op === 'text'
                ? Frames.text(String(input.length))
                : op === 'app'
                  ? Frames.app('note', input.length)
                  : op === 'sync'
                    ? Frames.sync()
                    : op === 'syncNotify'
                      ? Frames.syncNotify()
                      : Frames.stopInterruption()
            positionOfInput.set(frame.id, input.length)
            input.push(frame)
            await task.queueFrame(frame)
          }
          task.stopWhenDone()
          const result = await running
          await reading

          expect(result.status).toBe('ended')
          expect(out[0]?.type).toBe('start')
          expect(out.at(-1)?.type).toBe('end')
          expect(out.filter((f) => f.type === 'end')).toHaveLength(1)

          // Ordered frames: the output is the input minus the dropped frames, in the same order.
          const droppedIds = new Set(dropped.map((f) => f.id))
          expect(droppedIds.size).toBe(dropped.length)
          for (const id of droppedIds) expect(reported.has(id)).toBe(true)
          for (const id of reported) droppedIds.add(id)
          for (const f of input) if (droppedIds.has(f.id) && !dropped.includes(f)) dropped.push(f)
          const expected = input.filter((f) => ordered(f) && !droppedIds.has(f.id)).map((f) => f.id)
          const got = out.filter((f) => ordered(f) && f.type !== 'start' && f.type !== 'end').map((f) => f.id)
          expect(got).toEqual(expected)

          // Only data and app frames are ever dropped, only by an interruption, and only ones queued before it.
          for (const f of dropped) {
            expect(droppable(f)).toBe(true)
            expect(positionOfInput.get(f.id)).toBeLessThan(lastInterruptAt)
          }
          if (interrupts === 0) expect(dropped).toEqual([])
          if (dropped.length > 0) runsWithDrops++

          // System frames: one startInterruption per interruption, every stopInterruption, in order.
          expect(out.filter((f) => f.type === 'startInterruption')).toHaveLength(interrupts)
          const stops = input.filter((f) => f.type === 'stopInterruption').map((f) => f.id)
          expect(out.filter((f) => f.type === 'stopInterruption').map((f) => f.id)).toEqual(stops)
        },
      ),
      { numRuns: 150 },
    )
    // The generated runs do exercise the dropping path (not only the trivial one).
    expect(runsWithDrops).toBeGreaterThan(20)
  })

  it('without interruptions nothing is dropped and every frame arrives in order, whatever the queue sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('text', 'sync', 'app', 'metrics'), { maxLength: 80 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.boolean(), { maxLength: 5 }),
        async (kinds, capacity, pattern) => {
          const dropped: Frame[] = []
          const input = kinds.map((k, i) =>
            k === 'text' ? Frames.text(String(i)) : k === 'sync' ? Frames.sync() : k === 'app' ? Frames.app('x', i) : Frames.metrics(),
          )
          const task = new PipelineTask(pipeline(buffer({ capacity, onDrop: (fs) => dropped.push(...fs) }), jitter(pattern)))
          const out: Frame[] = []
          const output = task.frames()
          const reading = (async () => {
            for await (const f of output) out.push(f)
          })()
          const running = task.run()
          await task.queueFrames(input)
          task.stopWhenDone()
          await running
          await reading
          expect(dropped).toEqual([])
          expect(out.filter((f) => ordered(f) && f.type !== 'start' && f.type !== 'end').map((f) => f.id)).toEqual(
            input.filter(ordered).map((f) => f.id),
          )
          expect(new Set(out.filter((f) => f.type === 'metrics').map((f) => f.id))).toEqual(
            new Set(input.filter((f) => f.type === 'metrics').map((f) => f.id)),
          )
          expect(out.at(-1)?.type).toBe('end')
        },
      ),
      { numRuns: 100 },
    )
  })
})
