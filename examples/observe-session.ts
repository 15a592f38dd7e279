/**
 * A small voice-bot session used by the observability example and the trace viewer spec: a fake speech-to-text,
 * a sentence aggregator, a fake language model running ahead through a queue, a fake text-to-speech, and a transcript
 * logger on a parallel branch. The user asks two questions and interrupts the second answer.
 */
import { Frames, PipelineTask, buffered, map, measured, named, parallel, pipeline, sentenceAggregator, type Frame, type Observer, type Processor, type TaskResult } from '../lib/index.js'
import { wait } from './clock.js'

const isText = (f: Frame): f is Frame & { kind: 'data'; type: 'text'; text: string } => f.kind === 'data' && f.type === 'text'

/** "Transcribes" audio: here the input is already text; it takes 15 ms per utterance. */
const stt: Processor = named('stt', async function* (source, ctx) {
  for await (const f of source) {
    if (isText(f)) await wait(15, ctx.signal)
    yield f
  }
})

/** Answers a question word by word: 60 ms to the first word, then 12 ms a word. */
const llm: Processor = named('llm', async function* (source, ctx) {
  for await (const f of source) {
    if (!isText(f) || !f.text.endsWith('?')) {
      yield f
      continue
    }
    ctx.metrics.startTtfb()
    await wait(60, ctx.signal)
    const answer = `You asked about ${f.text.slice(0, -1).toLowerCase()}. Here is a short answer. And here is a longer one that goes on for a while.`
    let first = true
    for (const word of answer.split(' ')) {
      if (!first) await wait(12, ctx.signal)
      if (first) {
        const m = ctx.metrics.stopTtfb()
        if (m !== undefined) yield m
        first = false
      }
      yield Frames.text(`${word} `)
    }
  }
})

/** "Speaks" a sentence: 20 ms each. */
const tts: Processor = named('tts', async function* (source, ctx) {
  for await (const f of source) {
    if (isText(f)) {
      await wait(20, ctx.signal)
      yield Frames.app('audio', { sentence: f.text.trim() })
    } else yield f
  }
})

/** Keeps a transcript of what the bot says. */
const transcript = map((f) => f, 'transcript')

/** The demo bot. */
export const demoBot: Processor = pipeline(
  stt,
  buffered(measured(llm, { ttfb: false }), { name: 'llm-queue', capacity: 32 }),
  sentenceAggregator(),
  parallel([tts], [transcript]),
)

/** Runs one session of the demo bot with `observers`; resolves with the task's result. */
export async function runDemoSession(observers: readonly Observer[], name = 'demo-session'): Promise<TaskResult> {
  const task = new PipelineTask(demoBot, { name, allowInterruptions: true, enableMetrics: true, observe: observers })
  const reading = (async () => {
    for await (const _ of task.frames()) void _
  })()
  const done = task.run()
  await task.queueFrame(Frames.text('What is a frame pipeline?'))
  await wait(700)
  await task.queueFrame(Frames.text('Why do interruptions matter?'))
  await wait(160)
  task.interrupt()
  await task.queueFrame(Frames.stopInterruption())
  await task.queueFrame(Frames.text('Thanks!'))
  await wait(60)
  task.stopWhenDone()
  const result = await done
  await reading
  await task.observersIdle()
  return result
}
