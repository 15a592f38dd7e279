/**
 * A chat history that keeps exactly what the user heard.
 *
 * A fake "LLM" streams its answer word by word and — like many real model clients — ignores `ctx.signal`. A fake
 * speaker plays each word in 120 ms and reports it played (`playback`). 700 ms into the first answer the user barges
 * in. Interruption epochs drop every word the model still produces for the old question, the speaker's queue is
 * flushed, and the task's interruption report says which words were played. The history records the assistant turn
 * as "…what was heard" with `interrupted: true`; the next answer is recorded in full.
 *
 * Run: npx tsx examples/chat-history.ts
 */
import { Frames, isInterruptionReport, pipeline, PipelineTask, playback, uninterruptible, type Frame, type Processor } from '../lib/index.js'
import { stamp, wait } from './clock.js'

interface Message {
  readonly role: 'user' | 'assistant' | 'tool'
  readonly text: string
  readonly interrupted?: true
}
const history: Message[] = []

const answers: Record<string, string> = {
  'tell me about the weather': 'Tomorrow will be sunny in the morning, cloudy at noon and rainy in the evening, so take an umbrella',
  'just the morning please': 'Sunny in the morning',
}

/** The fake LLM: streams the answer's words and never looks at its signal. */
const llm: Processor = async function* llm(source) {
  for await (const frame of source) {
    if (frame.kind !== 'data' || frame.type !== 'text') {
      yield frame
      continue
    }
    history.push({ role: 'user', text: frame.text })
    // A tool result the application must keep, whatever happens to the spoken answer.
    yield uninterruptible(Frames.app('toolResult', { query: frame.text, forecast: 'sun, clouds, rain' }))
    for (const word of (answers[frame.text] ?? 'I do not know').split(' ')) {
      await wait(40) // no signal: this model keeps streaming after an interruption
      yield Frames.text(`${word} `)
    }
    yield Frames.app('answerDone', null)
  }
}

/** The speaker: a queue played one word every 120 ms; the player reports every word it finished. */
const device = { queue: [] as Frame[], timer: undefined as ReturnType<typeof setInterval> | undefined }
const speaker = playback({
  play: (frame) => {
    device.queue.push(frame)
  },
  flush: () => {
    console.log(`${stamp()}  speaker flushed ${device.queue.length} queued words`)
    device.queue.length = 0
  },
})
device.timer = setInterval(() => {
  const next = device.queue.shift()
  if (next === undefined) return
  if (next.kind === 'data' && next.type === 'text') console.log(`${stamp()}  speaker : ${next.text}`)
  speaker.played(next)
}, 120)

/** Records finished answers (the words the sink delivered since the last answer) and tool results. */
let answer: string[] = []
const recorder: Processor = async function* recorder(source) {
  for await (const frame of source) {
    if (frame.kind === 'app' && frame.type === 'toolResult') history.push({ role: 'tool', text: JSON.stringify(frame.data) })
    if (frame.kind === 'app' && frame.type === 'answerDone') {
      // Wait for the speaker to play what is still queued, then record the whole answer.
      while (device.queue.length > 0) await wait(20)
      history.push({ role: 'assistant', text: answer.join('').trim() })
      answer = []
    }
    if (frame.kind === 'data' && frame.type === 'text') answer.push(frame.text)
    yield frame
  }
}

const task = new PipelineTask(pipeline(llm, recorder, speaker.sink), {
  allowInterruptions: true,
  onUpstream: (frame) => {
    if (!isInterruptionReport(frame)) return
    const r = frame.data
    console.log(`${stamp()}  report  delivered ${r.deliveredCount}, dropped ${r.droppedCount}: heard "${r.deliveredText.trim()}"`)
    const slot = slots.shift()
    if (slot === undefined || r.deliveredCount + r.droppedCount === 0) return
    // The answer the user interrupted, as far as it was heard, in its place in the conversation.
    history[slot] = { role: 'assistant', text: `${r.deliveredText.trim()}…`, interrupted: true }
    answer = []
  },
})

/** Places in the history reserved for interrupted answers, filled when their report arrives. */
const slots: number[] = []
function bargeIn(): void {
  slots.push(history.push({ role: 'assistant', text: '', interrupted: true }) - 1)
  task.interrupt()
}

const running = task.run()
await task.queueFrame(Frames.text('tell me about the weather'))
await wait(700)
console.log(`${stamp()}  user barges in`)
bargeIn()
await task.queueFrame(Frames.text('just the morning please'))
await wait(1500)
task.stopWhenDone()
const result = await running
clearInterval(device.timer)
console.log(`${stamp()}  task ${result.status}; ${task.staleFrames} stale words dropped at the model's stage boundary`)
console.log(JSON.stringify(history.filter((m) => m.text !== ''), null, 2))
