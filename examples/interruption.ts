/**
 * A bot that stops talking the moment the user speaks.
 *
 * A fake "LLM" streams its answer word by word (one word every 80 ms; its waits honour `ctx.signal`). A slower fake
 * "TTS" speaks each word in 150 ms, so words pile up in the buffered stage between them. 600 ms into the first answer,
 * the user starts speaking: `task.interrupt()` aborts the LLM's in-flight wait, drops the words still queued, and
 * `startInterruption` reaches the speaker ahead of them. The user's new question is then answered in full.
 * `measured()` reports the LLM's time to first word; `userIdle()` nudges the user after 1 s of silence.
 *
 * Run: npx tsx examples/interruption.ts
 */
import { buffered, Frames, measured, pipeline, PipelineTask, userIdle, type Frame, type ProcessorFn } from '../lib/index.js'
import { stamp, wait } from './clock.js'

const answers: Record<string, string> = {
  'tell me a story': 'Once upon a time a very patient robot waited for its turn to speak and it waited and waited',
  'what time is it': 'It is time to test interruptions',
}

/** The fake LLM: for each question (a text frame), streams the answer's words. */
const llm: ProcessorFn = async function* llm(source, ctx) {
  for await (const frame of source) {
    if (frame.kind !== 'data' || frame.type !== 'text') {
      yield frame
      continue
    }
    console.log(`${stamp()}  llm     <- "${frame.text}"`)
    const words = (answers[frame.text] ?? 'I do not know').split(' ')
    await wait(200, ctx.signal) // "thinking": the time to first word
    for (const [i, word] of words.entries()) {
      if (i > 0) await wait(80, ctx.signal)
      yield Frames.text(word)
    }
  }
}

/** The fake TTS: "speaks" each word in 150 ms; stops at once when interrupted. */
const tts: ProcessorFn = async function* tts(source, ctx) {
  for await (const frame of source) {
    if (frame.kind === 'data' && frame.type === 'text') {
      await wait(150, ctx.signal)
      console.log(`${stamp()}  speaker : ${frame.text}`)
    }
    yield frame
  }
}

const describe = (f: Frame): string => {
  if (f.kind === 'system' && f.type === 'metrics') {
    const parts = [...f.ttfb.map((m) => `ttfb ${m.processor}=${m.value.toFixed(3)}s`), ...f.processing.map((m) => `processing ${m.processor}=${m.value.toFixed(3)}s`)]
    return `metrics ${parts.join(', ')}`
  }
  return Frames.format(f)
}

const bot = pipeline(
  buffered(measured(llm), { capacity: 32, onDrop: (frames) => console.log(`${stamp()}  buffer  dropped ${frames.length} queued words`) }),
  userIdle({ timeoutMs: 1000, onIdle: () => Frames.text('Are you still there?') }),
  tts,
)
const task = new PipelineTask(bot, { allowInterruptions: true, enableMetrics: true, name: 'bot' })
const output = task.frames()
const printing = (async () => {
  for await (const f of output) {
    if (f.kind === 'data') continue // already printed by the speaker
    console.log(`${stamp()}  sink    ${describe(f)}`)
  }
})()
const running = task.run()

await task.queueFrame(Frames.text('tell me a story'))
await new Promise((resolve) => setTimeout(resolve, 900))
console.log(`${stamp()}  user starts speaking -> task.interrupt()`)
task.interrupt()
await task.queueFrames([Frames.stopInterruption(), Frames.text('what time is it')])
await new Promise((resolve) => setTimeout(resolve, 3200))
task.stopWhenDone()
const result = await running
await printing
console.log(`${stamp()}  task ${result.status}`)
