/**
 * When does the user's speech interrupt the bot? An interruption policy decides.
 *
 * The user's transcripts enter the pipeline while the bot is answering. `interruptionPolicy` lets backchannels
 * ("mm-hmm", "yeah") pass without interrupting, and interrupts only once the user has said at least 3 real words
 * (`minWords`); `stopInterruption` (the user stopped speaking) starts the count again.
 *
 * Run: npx tsx examples/interruption-policy.ts
 */
import { buffer, Frames, interruptionPolicy, pipeline, PipelineTask, type ProcessorFn } from '../lib/index.js'
import { stamp, wait } from './clock.js'

/** The bot: answers every user transcript that ends a user turn with a long, slow answer. */
const bot: ProcessorFn = async function* bot(source, ctx) {
  for await (const frame of source) {
    yield frame
    if (frame.kind !== 'app' || frame.type !== 'userTurnEnd') continue
    try {
      for (const word of 'Let me tell you everything about the history of umbrellas from the very beginning'.split(' ')) {
        await wait(100, ctx.signal)
        yield Frames.text(word)
      }
    } catch {
      // Interrupted: the answer stops here.
    }
  }
}

const policy = interruptionPolicy({
  minWords: 3,
  onInterrupt: ({ words }) => console.log(`${stamp()}  policy  interrupts after ${words} words`),
})

// The buffer lets the policy read the user's input while the bot is busy answering.
const task = new PipelineTask(pipeline(policy, buffer({ capacity: 16 }), bot), { allowInterruptions: true })
const output = task.frames()
const speaking = (async () => {
  for await (const f of output) {
    if (f.kind === 'data' && f.type === 'text') console.log(`${stamp()}  bot     : ${f.text}`)
    if (f.kind === 'system' && f.type === 'startInterruption') console.log(`${stamp()}  bot stops talking`)
  }
})()
const running = task.run()

const user = async (text: string): Promise<void> => {
  console.log(`${stamp()}  user    : "${text}"`)
  await task.queueFrame(Frames.text(text))
}
await task.queueFrame(Frames.app('userTurnEnd', null))
await wait(350)
await user('mm-hmm') // a backchannel: the bot goes on
await wait(200)
await user('yeah') // still a backchannel
await wait(200)
await user('wait') // 1 real word: not enough yet
await wait(100)
await user('hold on please') // 4 real words: the policy interrupts
await wait(300)
task.stopWhenDone()
await running
await speaking
