/**
 * `syncParallel`: for each input frame, the outputs of all branches are released together, in branch order —
 * here an utterance's audio (a slow synthesizer) and its caption (fast) always come out side by side.
 *
 * Run: npx tsx examples/sync-parallel.ts
 */
import { Frames, map, run, syncParallel, type Processor } from '../lib/index.js'

const synthesize: Processor = async function* synthesize(source) {
  for await (const frame of source) {
    if (frame.kind === 'data' && frame.type === 'text') {
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 30))
      yield Frames.audioRaw({ audio: new Uint8Array(frame.text.length * 320) })
    } else yield frame
  }
}

const caption = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`caption: ${f.text}`) : f), 'caption')

const input = ['Hi!', 'How can I help?', 'Goodbye.'].map((t) => Frames.text(t))
for await (const frame of run(syncParallel(synthesize, caption), input)) {
  console.log(Frames.format(frame))
}
