/**
 * A task whose processor decides when the conversation is over: it pushes `end` upstream, and the task ends
 * gracefully once everything queued before has been processed.
 *
 * Run: npx tsx examples/upstream-end.ts
 */
import { Frames, PipelineRunner, PipelineTask, type ProcessorFn } from '../lib/index.js'

/** Answers each text; on "bye" it asks the task to end by pushing `end` upstream. */
const bot: ProcessorFn = async function* bot(source, ctx) {
  for await (const frame of source) {
    if (frame.kind === 'data' && frame.type === 'text') {
      yield Frames.text(`bot: you said "${frame.text}"`)
      if (frame.text === 'bye') ctx.pushUpstream(Frames.end())
    } else {
      yield frame
    }
  }
}

const task = new PipelineTask(bot)
const output = task.frames()
const printing = (async () => {
  for await (const frame of output) console.log(Frames.format(frame))
})()

// The input stays open: nobody calls stopWhenDone(); the bot ends the task.
for (const text of ['hello', 'how are you?', 'bye']) await task.queueFrame(Frames.text(text))

const result = await new PipelineRunner().run(task)
await printing
console.log(`task ${task.name} finished: ${result.status}`)
