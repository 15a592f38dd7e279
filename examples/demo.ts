/**
 * The lifecycle of a task, step by step: `start` first, frames in order, a non-fatal error reported upstream while
 * the pipeline goes on, an interruption that stops a slow "model" mid-sentence, and `end` draining everything.
 *
 * Run: npm run demo   (or: npx tsx examples/demo.ts)
 */
import { Frames, map, pipeline, PipelineRunner, PipelineTask, type Frame, type ProcessorFn } from '../lib/index.js'
import { stamp, wait } from './clock.js'

/** A fake language model: answers a question word by word, slowly. Its awaits honour `ctx.signal`. */
const model: ProcessorFn = async function* model(source, ctx) {
  for await (const frame of source) {
    if (frame.kind === 'data' && frame.type === 'text' && frame.text.endsWith('?')) {
      const answer = `Let me think about "${frame.text}" for a long while before answering`
      for (const word of answer.split(' ')) {
        await wait(40, ctx.signal) // aborts at once on interruption: the stage restarts quietly on the next input
        yield Frames.text(word)
      }
    } else {
      yield frame
    }
  }
}

/** A processor with a bug: it throws on the word "boom". The error goes upstream; the pipeline goes on. */
const fragile = map((f) => {
  if (f.kind === 'data' && f.type === 'text' && f.text === 'boom') throw new Error('fragile cannot say boom')
  return f
}, 'fragile')

const task = new PipelineTask(pipeline(model, fragile), {
  allowInterruptions: true,
  onUpstream: (f: Frame) => console.log(`${stamp()}  ↑ upstream  ${Frames.format(f)}`),
})

const output = task.frames()
const printer = (async () => {
  let words = 0
  for await (const frame of output) {
    if (frame.kind === 'data' && frame.type === 'text') {
      words++
      if (words > 5) continue // keep the log short while the model streams
    }
    console.log(`${stamp()}  ↓ output    ${Frames.format(frame)}`)
    if (frame.kind === 'system' && frame.type === 'startInterruption') words = 0
  }
})()

const runner = new PipelineRunner()
const result = runner.run(task)

await task.queueFrame(Frames.text('hello'))
await task.queueFrame(Frames.text('boom'))
await task.queueFrame(Frames.text('what is a frame pipeline?'))
await wait(300)
console.log(`${stamp()}  ✋ the user starts speaking: task.interrupt()`)
task.interrupt()
await task.queueFrame(Frames.stopInterruption())
await task.queueFrame(Frames.text('never mind, thanks'))
task.stopWhenDone()

const { status, errors } = await result
await printer
console.log(`${stamp()}  task ended: status=${status}, non-fatal errors=${errors.length}`)
