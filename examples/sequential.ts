/**
 * `sequential`: the outputs of several pipelines over the same input, one after the other — a summary section,
 * then the full text. Later pipelines run concurrently; their output is held (up to `maxBuffered`) until the
 * earlier ones have ended.
 *
 * Run: npx tsx examples/sequential.ts
 */
import { Frames, map, run, sequential, type Processor } from '../lib/index.js'

const summary: Processor = async function* summary(source) {
  let words = 0
  for await (const frame of source) {
    if (frame.kind === 'data' && frame.type === 'text') words += frame.text.split(/\s+/).length
    else if (frame.kind === 'control' && frame.type === 'end') {
      yield Frames.text(`summary: ${words} words`)
      yield frame
    } else yield frame
  }
}

const fullText = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`> ${f.text}`) : f), 'fullText')

const input = ['Frames flow through stages.', 'Branches run side by side.'].map((t) => Frames.text(t))
for await (const frame of run(sequential({ maxBuffered: 1000 }, summary, fullText), input)) {
  console.log(Frames.format(frame))
}
