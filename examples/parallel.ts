/**
 * `parallel`: one input, several branches, outputs merged as they are produced.
 * A transcript goes to a (slow) translator and to a (fast) keyword spotter at the same time; the logger branch
 * passes every frame through unchanged, and those copies come out once.
 *
 * Run: npx tsx examples/parallel.ts
 */
import { filter, Frames, map, parallel, pipeline, run, type Processor, type ProcessorFn } from '../lib/index.js'

const translate: ProcessorFn = async function* translate(source, ctx) {
  for await (const frame of source) {
    if (frame.kind === 'data' && frame.type === 'text') {
      await new Promise((resolve) => setTimeout(resolve, 20)) // a remote call; cancel aborts ctx.signal
      if (ctx.signal.aborted) return
      yield Frames.text(`[fr] ${frame.text.replace('hello', 'bonjour')}`)
    } else yield frame
  }
}

const keywords = pipeline(
  filter((f) => f.kind !== 'data' || f.type !== 'text' || f.text.includes('order')),
  map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`[keyword] ${f.text}`) : f)),
)

const logger: Processor = async function* logger(source) {
  for await (const frame of source) yield frame
}

const input = ['hello world', 'where is my order', 'thanks'].map((t) => Frames.text(t))
for await (const frame of run(parallel(translate, keywords, logger), input)) {
  console.log(Frames.format(frame))
}
