/**
 * The bot that the workers serve: a fake "LLM" that streams an answer word by word (its waits honour `ctx.signal`,
 * so cancel and interruptions stop it), a sentence aggregator, and a fake "TTS" that turns each sentence into
 * 20 ms audio frames (640 bytes of 16 kHz mono PCM each) plus the sentence as an app frame for the client to print.
 */
import { Frames, pipeline, sentenceAggregator, type Frame, type Processor, type ProcessorFn } from '../../lib/index.js'

const answers: Record<string, string> = {
  'tell me a story': 'Once upon a time a patient robot waited for its turn. Then it spoke, and everyone listened.',
  'what time is it': 'It is time to scale out. Every worker takes its share of the sessions.',
}

const wait = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })

/** Streams the answer to each question, one word every 30 ms. */
const llm: ProcessorFn = async function* llm(source, ctx) {
  for await (const frame of source) {
    if (frame.kind !== 'data' || frame.type !== 'text') {
      yield frame
      continue
    }
    const answer = answers[frame.text.trim().toLowerCase()] ?? `I heard ${frame.text.trim()}.`
    for (const word of answer.split(' ')) {
      await wait(30, ctx.signal)
      yield Frames.text(`${word} `)
    }
  }
}

/** Speaks each sentence: audio frames (20 ms each, 2 per word) and the sentence itself as an app frame. */
const tts: Processor = async function* tts(source) {
  for await (const frame of source) {
    if (frame.kind !== 'data' || frame.type !== 'text') {
      yield frame
      continue
    }
    const words = frame.text.trim().split(/\s+/).length
    for (let i = 0; i < words * 2; i++) yield Frames.audioRaw({ audio: new Uint8Array(640) })
    yield Frames.app('spoken', { text: frame.text.trim() }) as Frame
  }
}

/** One session's pipeline. */
export function bot(): Processor {
  return pipeline(llm, sentenceAggregator(), tts)
}
