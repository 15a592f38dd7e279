/**
 * Property-testing a processor of your own with `apipeline/testing`.
 *
 * `sentences` joins text chunks (as a streaming LLM produces them) into whole sentences. Instead of a few
 * hand-written cases, fast-check generates thousands of chunk streams — mixed with other frames — and checks:
 *
 * 1. the lifecycle laws (start first, end last, nothing after end, teardown on early break, no unhandled rejection);
 * 2. no text is lost or reordered: the output texts concatenate to the input texts;
 * 3. every text that comes out is a whole sentence, unless a non-text frame or the end forced it out;
 * 4. the other frames pass unchanged and in order.
 *
 * Run: `npx tsx examples/property-test.ts` (in a test runner, drop the console output and keep the awaits).
 */
import fc from 'fast-check'
import { Frames, type Frame, type Processor } from '../lib/index.js'
import {
  arbAppFrame,
  arbFrame,
  arbFrames,
  arbTextFrame,
  checkLifecycleLaws,
  normalizeFrame,
  runProcessor,
  sameFrames,
  withoutLifecycle,
} from '../lib/testing/index.js'

const isText = Frames.is('text')

/** Joins text chunks into sentences; any other frame (and the end) flushes what is held, then passes. */
const sentences: Processor = async function* sentences(source) {
  let held = ''
  for await (const frame of source) {
    if (isText(frame)) {
      held += frame.text
      let cut = held.search(/[.?!]/)
      while (cut >= 0) {
        yield Frames.text(held.slice(0, cut + 1))
        held = held.slice(cut + 1)
        cut = held.search(/[.?!]/)
      }
      continue
    }
    if (held !== '') {
      yield Frames.text(held)
      held = ''
    }
    yield frame
  }
}

const textOf = (frames: readonly Frame[]): string => frames.map((f) => (isText(f) ? f.text : '')).join('')

// Chunks that look like model output, plus sync frames and an app frame of our own.
const chunk = arbTextFrame({ text: fc.constantFrom('Hi', ' there', '.', ' How', ' are you', '?', '!', ' ok', '') })
const frames = arbFrames({
  maxLength: 30,
  frame: fc.oneof({ arbitrary: chunk, weight: 8 }, arbFrame({ data: false }), arbAppFrame('mark', { n: fc.nat(9) })),
})

const started = performance.now()

await checkLifecycleLaws(sentences, { numRuns: 200, frames })
console.log('1. lifecycle laws hold')

await fc.assert(
  fc.asyncProperty(frames, async (input) => {
    const { downstream, status } = await runProcessor(sentences, input)
    if (status !== 'ended') throw new Error(`status ${status}`)
    const out = withoutLifecycle(downstream)

    // 2. nothing lost or reordered
    if (textOf(out) !== textOf(input)) throw new Error(`text changed: ${textOf(input)} -> ${textOf(out)}`)

    // 3. a text is a whole sentence unless something forced it out
    out.forEach((f, i) => {
      const next = out[i + 1]
      if (isText(f) && !/[.?!]$/.test(f.text) && next !== undefined && next.type === 'text') {
        throw new Error(`"${f.text}" left before its sentence ended`)
      }
    })

    // 4. other frames unchanged, in order
    const others = (fs: readonly Frame[]) => fs.filter((f) => !isText(f))
    if (!sameFrames(others(out), others(input))) throw new Error('non-text frames changed')
  }),
  { numRuns: 300 },
)
console.log('2-4. no text lost, whole sentences, other frames unchanged')

// A single run, to see what runProcessor gives back.
const demo = await runProcessor(sentences, [Frames.text('Hi'), Frames.text(' there. How'), Frames.text(' are you?')])
console.log(withoutLifecycle(demo.downstream).map((f) => normalizeFrame(f)))
console.log(`done in ${Math.round(performance.now() - started)} ms`)
