/**
 * Soak property: over a million frames in total, through random pipelines (generator stages, fused operators, buffers,
 * parallel branches) with a random disruption (none, interrupt, cancel, stop, break) at a random point. Whatever
 * happens: per branch no frame is duplicated or reordered; a run that was not disrupted loses nothing; the status is
 * the one the disruption asks for; every processor instance that started has run its `finally`.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buffer, filter, Frames, map, parallel, pipeline, PipelineTask, type Frame, type Processor } from '../../lib/index.js'

const FRAMES_PER_RUN = 10_000
const RUNS = 100
const MIN_TOTAL = 1_000_000

interface Count {
  started: number
  finished: number
}

/** A pass-through generator stage that counts its instances and their `finally` runs. */
function probe(count: Count): Processor {
  return async function* probed(source) {
    count.started++
    try {
      for await (const f of source) yield f
    } finally {
      count.finished++
    }
  }
}

type Piece = 'gen' | 'fused' | 'buffer'
type Disruption = 'none' | 'interrupt' | 'cancel' | 'stop' | 'break'

const arbRun = fc.record({
  pieces: fc.array(fc.constantFrom<Piece>('gen', 'fused', 'buffer'), { minLength: 1, maxLength: 4 }),
  branches: fc.integer({ min: 1, max: 3 }),
  capacity: fc.integer({ min: 1, max: 32 }),
  disruption: fc.constantFrom<Disruption>('none', 'none', 'interrupt', 'cancel', 'stop', 'break'),
  // Where the disruption happens, as a fraction of the output.
  at: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
})

function body(pieces: readonly Piece[], capacity: number, count: Count): Processor {
  return pipeline(
    ...pieces.map((piece): Processor => {
      switch (piece) {
        case 'gen':
          return probe(count)
        case 'fused':
          return pipeline(
            map((f: Frame) => f),
            filter(() => true),
          )
        case 'buffer':
          return buffer({ capacity })
      }
    }),
  )
}

/** Branch `b` tags every text with its number, so each branch's output can be checked on its own. */
const tag = (b: number): Processor => map((f: Frame) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`${b}:${f.text}`) : f))

let total = 0

describe('soak', () => {
  it(`${MIN_TOTAL.toLocaleString('en')}+ frames through random pipelines under random interrupt/cancel/stop/break: nothing lost, duplicated or reordered per branch, every processor finalized`, async () => {
    await fc.assert(
      fc.asyncProperty(arbRun, async ({ pieces, branches, capacity, disruption, at }) => {
        const count: Count = { started: 0, finished: 0 }
        const element =
          branches === 1
            ? pipeline(body(pieces, capacity, count), tag(0))
            : parallel(
                { capacity },
                ...Array.from({ length: branches }, (_, b) => pipeline(body(pieces, capacity, count), tag(b))),
              )
        const task = new PipelineTask(pipeline(probe(count), element), {
          allowInterruptions: disruption === 'interrupt',
          cancelTimeoutMs: 2_000,
        })
        const output = task.frames()
        const done = task.run()
        const feeding = (async () => {
          for (let i = 0; i < FRAMES_PER_RUN && !task.hasFinished(); i++) {
            const wait = task.pushFrame(Frames.text(String(i)))
            if (wait !== undefined) await wait
          }
          task.stopWhenDone()
        })()
        const disruptAt = Math.floor(at * FRAMES_PER_RUN * branches)
        const seen: number[][] = Array.from({ length: branches }, () => [])
        const kinds: string[] = []
        let texts = 0
        for await (const f of output) {
          kinds.push(f.type)
          if (f.kind !== 'data' || f.type !== 'text') continue
          const colon = f.text.indexOf(':')
          ;(seen[Number(f.text.slice(0, colon))] as number[]).push(Number(f.text.slice(colon + 1)))
          if (++texts === disruptAt) {
            if (disruption === 'break') break
            if (disruption === 'cancel') void task.cancel()
            if (disruption === 'stop') void task.stop()
            if (disruption === 'interrupt') task.interrupt()
          }
        }
        const result = await done
        await feeding
        total += texts

        const expected = { none: 'ended', interrupt: 'ended', cancel: 'cancelled', break: 'cancelled', stop: 'stopped' }[disruption]
        expect(result.status).toBe(expected)
        expect(result.errors).toEqual([])
        expect(kinds[0]).toBe('start')
        for (const list of seen) {
          // Per branch: strictly increasing, so nothing duplicated or reordered.
          let ordered = true
          for (let i = 1; i < list.length; i++) if ((list[i] as number) <= (list[i - 1] as number)) ordered = false
          expect(ordered).toBe(true)
          // A run that was not disrupted loses nothing.
          if (disruption === 'none') expect(list.length).toBe(FRAMES_PER_RUN)
        }
        if (result.status === 'ended') {
          expect(kinds.at(-1)).toBe('end')
          expect(kinds.filter((k) => k === 'end')).toHaveLength(1)
        }
        expect(count.finished).toBe(count.started)
      }),
      { numRuns: RUNS },
    )
    expect(total).toBeGreaterThanOrEqual(MIN_TOTAL)
  }, 120_000)
})
