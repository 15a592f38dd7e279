/**
 * The seed's sentence-aggregator example: streamed text chunks (as a language model produces them) are joined into
 * whole sentences before they reach a "speaker". A comma is not the end of a sentence; a number followed by `.` ends
 * one unless the next chunk continues the number (`3` `.` `14`); what is left at `end` is flushed before `end`.
 *
 * Run: npx tsx examples/sentence-aggregator.ts
 */
import { Frames, pipeline, run, sentenceAggregator, toCallback } from '../lib/index.js'

const chunks = ['Hello', ', ', 'world', '.', ' Your total is', ' 20', '.', ' Pi is 3', '.', '14', '.', ' 你好，', '我很好。', ' See you']

const speaker = toCallback(async (frame) => {
  if (frame.kind === 'data' && frame.type === 'text') {
    console.log(`speak: ${JSON.stringify(frame.text)}`)
    await new Promise((resolve) => setTimeout(resolve, 10)) // the next sentence waits for this one to be spoken
  }
})

for await (const frame of run(pipeline(sentenceAggregator(), speaker), chunks.map((c) => Frames.text(c)))) {
  console.log(`out:   ${Frames.format(frame).slice(0, 40)}`)
}
