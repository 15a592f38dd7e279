/**
 * The demo's pipeline: a fake streaming "LLM" that types its reply word by word and stops the moment it is
 * interrupted (every wait honours the signal of the answer in progress).
 */
import { Frames, type ProcessorFn } from '../../lib/index.js'
import { wait } from '../clock.js'

const filler =
  'Here is a long and careful answer that streams one word at a time so you can watch it arrive and press Stop ' +
  'whenever you have heard enough of it because a real bot must stop talking the moment its user wants to speak again'

/** The reply to `message`: some words about it, then the filler. */
export function replyTo(message: string): string[] {
  const topic = message.trim().split(/\s+/).slice(0, 6).join(' ')
  return `You said "${topic}". ${filler}.`.split(' ')
}

/** A fake LLM: for each text frame from the user, yields the reply's words, one every `wordMs`. */
export function fakeLlm(wordMs: number): ProcessorFn {
  return async function* fakeLlm(source, ctx) {
    for await (const frame of source) {
      if (frame.kind !== 'data' || frame.type !== 'text') {
        yield frame
        continue
      }
      // This answer's signal: an interruption aborts it (a fresh ctx.signal serves the next answer).
      const signal = ctx.signal
      try {
        for (const [i, word] of replyTo(frame.text).entries()) {
          await wait(i === 0 ? wordMs * 2 : wordMs, signal)
          yield Frames.text(i === 0 ? word : ` ${word}`)
        }
        yield Frames.app('replyDone', null)
      } catch (err) {
        if (!signal.aborted) throw err
      }
    }
  }
}
