/**
 * A serial pipeline with a custom processor.
 *
 * Run: npx tsx examples/serial-pipeline.ts
 */
import { Frames, map, pipeline, run, type Processor } from '../lib/index.js'

/** A custom processor: counts words of text frames and appends the count. Forwards everything else. */
const wordCount: Processor = async function* wordCount(source) {
  for await (const frame of source) {
    if (frame.kind === 'data' && frame.type === 'text') {
      const words = frame.text.split(/\s+/).filter(Boolean).length
      yield Frames.text(`${frame.text} (${words} words)`)
    } else {
      yield frame
    }
  }
}

const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f), 'upper')

const input = ['hello there', 'frames flow through stages', 'in order'].map((t) => Frames.text(t))

for await (const frame of run(pipeline(upper, wordCount), input)) {
  console.log(Frames.format(frame))
}
