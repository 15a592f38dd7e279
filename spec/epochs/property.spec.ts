/**
 * Property: random interruption points over random pipelines — stages that ignore their signal, queues, `parallel`
 * branches — around a model that streams words for every question and one uninterruptible tool result. The model
 * either answers in its read loop, or reads and produces concurrently (a pump feeding an answer loop through a queue,
 * stating the epoch of each word); interruptions come from the input side or from the sink's reader, in the middle of
 * the hand-over of the next frames.
 */
import fc from 'fast-check'
import { pushable } from 'it-pushable'
import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineTask,
  buffer,
  currentEpoch,
  stampEpoch,
  isInterruptionReport,
  parallel,
  pipeline,
  uninterruptible,
  type Frame,
  type InterruptionReport,
  type Processor,
} from '../../lib/index.js'
import { tick } from '../helpers/collect.js'

type StageSpec =
  | { kind: 'pass' }
  | { kind: 'deaf'; pattern: boolean[] }
  | { kind: 'buffer'; capacity: number }
  | { kind: 'parallel2' }
  | { kind: 'parallelSwallow' }

const stageArb: fc.Arbitrary<StageSpec> = fc.oneof(
  fc.constant({ kind: 'pass' as const }),
  fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }).map((pattern) => ({ kind: 'deaf' as const, pattern })),
  fc.integer({ min: 1, max: 4 }).map((capacity) => ({ kind: 'buffer' as const, capacity })),
  fc.constant({ kind: 'parallel2' as const }),
  fc.constant({ kind: 'parallelSwallow' as const }),
)

type Op = 'question' | 'interrupt' | 'tick'
const opArb = fc.constantFrom<Op>('question', 'question', 'interrupt', 'tick', 'tick', 'tick')

const pass: Processor = async function* pass(source) {
  for await (const f of source) yield f
}

/** Takes a macrotask turn on some frames (cyclic pattern) and never looks at its signal. */
function deaf(pattern: readonly boolean[]): Processor {
  let i = 0
  return async function* deaf(source) {
    for await (const f of source) {
      if (pattern[i++ % pattern.length] === true) await tick()
      yield f
    }
  }
}

/** A branch that passes only control frames (so the other branch's copy of every other frame is the one that goes on). */
const swallowData: Processor = async function* swallowData(source) {
  for await (const f of source) if (f.kind === 'control') yield f
}

function build(spec: StageSpec): Processor {
  switch (spec.kind) {
    case 'pass':
      return pass
    case 'deaf':
      return deaf(spec.pattern)
    case 'buffer':
      return buffer({ capacity: spec.capacity })
    case 'parallel2':
      return parallel(deaf([true, false]), swallowData)
    case 'parallelSwallow':
      return parallel(swallowData, pass)
  }
}

describe('interruption epochs (property)', () => {
  it('no stale word reaches the sink; every interrupted turn is reported delivered + dropped = produced, matching the sink; uninterruptible frames arrive in order', async () => {
    let interruptedTurns = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(stageArb, { maxLength: 2 }),
        fc.array(stageArb, { maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
        fc.array(opArb, { minLength: 4, maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.array(fc.constantFrom(false, false, false, true), { minLength: 1, maxLength: 5 }),
        async (before, after, wordCounts, modelPattern, ops, readerPattern, concurrentModel, readerInterrupts) => {
          let interrupts = 0
          /** word id -> interruptions so far when the model read the question it answers */
          const wordEpoch = new Map<number, number>()
          const tools: number[] = []
          let q = 0
          let turn = 0
          const model: Processor = async function* model(source) {
            for await (const f of source) {
              if (f.kind !== 'data' || f.type !== 'text') {
                yield f
                continue
              }
              const epoch = interrupts
              const n = wordCounts[q++ % wordCounts.length] as number
              for (let i = 0; i < n; i++) {
                if (modelPattern[turn++ % modelPattern.length] === true) await tick() // ignores its signal
                const word = Frames.text(`${f.text}.${i} `)
                wordEpoch.set(word.id, epoch)
                yield word
              }
              const tool = uninterruptible(Frames.app('toolResult', f.text))
              tools.push(tool.id)
              yield tool
            }
          }
          /**
           * The same answers from a processor that reads and produces concurrently: its pump never stops reading, an
           * answer loop (which ignores its signal) streams the words through a queue, each stamped with the epoch in
           * which its question was read. Frames after a question wait for its answer (order); system frames pass.
           */
          const concurrent: Processor = (source, ctx) => {
            const out = pushable<Frame>({ objectMode: true })
            const answer = async (question: string, epoch: number, stamp: number): Promise<void> => {
              const n = wordCounts[q++ % wordCounts.length] as number
              for (let i = 0; i < n; i++) {
                if (modelPattern[turn++ % modelPattern.length] === true) await tick()
                const word = Frames.text(`${question}.${i} `)
                wordEpoch.set(word.id, epoch)
                out.push(stampEpoch(ctx, word, stamp))
              }
              const tool = uninterruptible(Frames.app('toolResult', question))
              tools.push(tool.id)
              out.push(tool)
            }
            void (async () => {
              let chain = Promise.resolve()
              try {
                for await (const f of source) {
                  if (f.kind === 'system') out.push(f)
                  else if (f.kind === 'data' && f.type === 'text') {
                    const epoch = interrupts
                    const stamp = currentEpoch(ctx)
                    chain = chain.then(() => answer(f.text, epoch, stamp))
                  } else chain = chain.then(() => void out.push(f))
                }
                await chain
              } finally {
                out.end()
              }
            })()
            return out
          }
          const reports: InterruptionReport[] = []
          const task = new PipelineTask(pipeline(...before.map(build), concurrentModel ? concurrent : model, ...after.map(build)), {
            allowInterruptions: true,
            onUpstream: (f) => {
              if (isInterruptionReport(f)) reports.push(f.data)
            },
          })
          const received: Frame[] = []
          /** startInterruption frames the sink has seen when it received each frame */
          const sinkEpochAt: number[] = []
          let sinkEpoch = 0
          let r = 0
          let ri = 0
          const output = task.frames()
          const reading = (async () => {
            for await (const f of output) {
              if (f.type === 'startInterruption') sinkEpoch++
              received.push(f)
              sinkEpochAt.push(sinkEpoch)
              // The user barges in as a word comes out: the next frames are being handed over at that moment.
              if (wordEpoch.has(f.id) && readerInterrupts[ri++ % readerInterrupts.length] === true && task.interrupt()) interrupts++
              if (readerPattern[r++ % readerPattern.length] === true) await tick()
            }
          })()
          const running = task.run()
          for (const op of ops) {
            if (op === 'interrupt') {
              if (task.interrupt()) interrupts++
            } else if (op === 'tick') await tick()
            else await task.queueFrame(Frames.text(`q${q}-${Math.random().toString(36).slice(2, 6)}`))
          }
          task.stopWhenDone()
          const result = await running
          await reading
          expect(result.status).toBe('ended')
          expect(received[0]?.type).toBe('start')
          expect(received.at(-1)?.type).toBe('end')
          expect(received.filter((f) => f.type === 'startInterruption')).toHaveLength(interrupts)

          // No stale word: once the sink has seen the k-th startInterruption, no word answering a question read
          // before the k-th interruption arrives.
          received.forEach((f, i) => {
            const epoch = wordEpoch.get(f.id)
            if (epoch !== undefined) expect(epoch).toBeGreaterThanOrEqual(sinkEpochAt[i] as number)
          })
          const receivedWords = new Set(received.filter((f) => wordEpoch.has(f.id)).map((f) => f.id))
          expect(receivedWords.size).toBe(received.filter((f) => wordEpoch.has(f.id)).length)

          // Uninterruptible tool results: every one arrives, in order.
          expect(received.filter((f) => f.type === 'toolResult').map((f) => f.id)).toEqual(tools)

          // One report per interruption, for turns 0 .. interrupts-1.
          expect(reports.map((x) => x.epoch)).toEqual(Array.from({ length: interrupts }, (_, i) => i))
          const listedOnce = new Set<number>()
          for (const report of reports) {
            expect(report.truncated).toBe(false)
            expect(report.deliveredCount).toBe(report.delivered.length)
            expect(report.droppedCount).toBe(report.dropped.length)
            const delivered = report.delivered.map((e) => e.id).filter((id) => wordEpoch.has(id))
            const dropped = report.dropped.map((e) => e.id).filter((id) => wordEpoch.has(id))
            // A word belongs to the turn in which the model was handed its question: at the latest the one the model
            // saw when it went on (an interruption can come between the hand-over and the model's next step).
            for (const id of [...delivered, ...dropped]) expect(wordEpoch.get(id)).toBeGreaterThanOrEqual(report.epoch)
            // The report matches what the sink saw.
            for (const id of delivered) expect(receivedWords.has(id)).toBe(true)
            for (const id of dropped) expect(receivedWords.has(id)).toBe(false)
            for (const id of [...delivered, ...dropped]) {
              expect(listedOnce.has(id)).toBe(false)
              listedOnce.add(id)
            }
            if (delivered.length + dropped.length > 0) interruptedTurns++
          }
          // delivered + dropped = produced for every interrupted turn: each word of a turn that was interrupted is
          // listed in exactly one report; a word in no report belongs to the last turn and reached the sink.
          // A model that reads and produces concurrently may still be streaming (and its stage dropping) an interrupted
          // turn's words after that turn's report went out: those are counted only in `staleFrames`.
          let unlisted = 0
          for (const [id, e] of wordEpoch) {
            if (e < interrupts && !listedOnce.has(id)) {
              expect(concurrentModel).toBe(true)
              expect(receivedWords.has(id)).toBe(false)
              unlisted++
              continue
            }
            if (!listedOnce.has(id)) expect(receivedWords.has(id)).toBe(true)
          }
          expect(unlisted).toBeLessThanOrEqual(task.staleFrames)
          // Every word the sink received from an interrupted turn is listed as delivered.
          for (const id of receivedWords) if ((wordEpoch.get(id) as number) < interrupts) expect(listedOnce.has(id)).toBe(true)
        },
      ),
      { numRuns: 120 },
    )
    expect(interruptedTurns).toBeGreaterThan(20)
  }, 120_000)
})
