/**
 * `sentenceAggregator()`: join text frames into whole sentences.
 * @module
 */
import { asContext, type ProcessorContext } from '../../core/context.js'
import { withInfo, type Processor } from '../../core/processor.js'
import { text as textFrame } from '../../frames/constructors.js'
import { isInterruption } from '../../frames/guards.js'
import type { Frame } from '../../frames/types.js'
import { reportError } from '../../operators/two-way.js'
import { matchEndOfSentence } from './end-of-sentence.js'

/** Options of {@link sentenceAggregator}. */
export interface SentenceAggregatorOptions {
  /** Decides whether the accumulated text is a complete sentence. Default {@link matchEndOfSentence}. */
  readonly isEndOfSentence?: (text: string) => boolean
  /**
   * What a downstream interruption frame (`startInterruption`, `interruption`) does to the unfinished sentence:
   * `'drop'` (default) discards it — it belongs to the interrupted turn; `'flush'` emits it before the interruption
   * frame; `'keep'` keeps it and the next text is appended to it.
   */
  readonly interruption?: 'drop' | 'flush' | 'keep'
  /** Display name. Default `'sentenceAggregator'`. */
  readonly name?: string
}

/**
 * Accumulates `text` frames and emits one new text frame per complete sentence, in the direction the text was
 * travelling (the Python aggregator turned upstream text around). Only the end of the accumulated text is tested
 * ({@link matchEndOfSentence}): `"Hello, "` + `"world."` gives one frame `"Hello, world."`. At `end`, unfinished
 * text is emitted before the `end` frame (and unfinished upstream text is sent upstream), so nothing is lost. Other
 * frames pass at once without flushing, so they may overtake an unfinished sentence.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass; interruptions also apply the `interruption` policy (default: drop the unfinished sentence) | pass |
 * | control | pass; `end` first flushes the unfinished sentence (both directions) | pass; `end` first flushes the upstream text |
 * | data | `text` accumulated, sentences emitted downstream; `audioRaw`/`imageRaw` pass | `text` accumulated, sentences sent upstream; others pass |
 * | app | pass | pass |
 *
 * @example
 * ```ts
 * import { sentenceAggregator, run, Frames } from 'apipeline-ts'
 *
 * const input = ['Hello, ', 'world.', ' How are', ' you?', ' Bye'].map((t) => Frames.text(t))
 * for await (const f of run(sentenceAggregator(), input)) if (f.type === 'text') console.log(f.text)
 * // "Hello, world."  " How are you?"  " Bye" (flushed at end)
 * ```
 */
export function sentenceAggregator(options: SentenceAggregatorOptions = {}): Processor {
  if (options === null || typeof options !== 'object') throw new TypeError('sentenceAggregator(options) must be an object')
  const name = options.name ?? 'sentenceAggregator'
  const isEnd = options.isEndOfSentence ?? matchEndOfSentence
  if (typeof isEnd !== 'function') throw new TypeError('sentenceAggregator: isEndOfSentence must be a function')
  const onInterruption = options.interruption ?? 'drop'
  if (onInterruption !== 'drop' && onInterruption !== 'flush' && onInterruption !== 'keep') {
    throw new TypeError("sentenceAggregator: interruption must be 'drop', 'flush' or 'keep'")
  }

  const aggregator = (source: AsyncIterable<Frame>, context?: ProcessorContext): AsyncIterable<Frame> => {
    const ctx = asContext(context, name)
    // A custom rule that throws is reported; the text keeps accumulating.
    const complete = (text: string): boolean => {
      try {
        return isEnd(text) === true
      } catch (err) {
        reportError(ctx, err)
        return false
      }
    }
    return (async function* sentenceAggregatorGen() {
      let down = ''
      let up = ''
      const off = ctx.onUpstream((frame, next) => {
        if (frame.kind === 'data' && frame.type === 'text') {
          up += frame.text
          if (complete(up)) {
            const sentence = up
            up = ''
            next(textFrame(sentence))
          }
          return
        }
        if (frame.kind === 'control' && frame.type === 'end' && up !== '') {
          const rest = up
          up = ''
          next(textFrame(rest))
        }
        next(frame)
      })
      try {
        for await (const frame of source) {
          if (frame.kind === 'data' && frame.type === 'text') {
            down += frame.text
            if (complete(down)) {
              const sentence = down
              down = ''
              yield textFrame(sentence)
            }
            continue
          }
          if (frame.kind === 'control' && frame.type === 'end') {
            if (up !== '') {
              const rest = up
              up = ''
              ctx.pushUpstream(textFrame(rest))
            }
            if (down !== '') {
              const rest = down
              down = ''
              yield textFrame(rest)
            }
          } else if (isInterruption(frame) && down !== '' && onInterruption !== 'keep') {
            const rest = down
            down = ''
            if (onInterruption === 'flush') yield textFrame(rest)
          }
          yield frame
        }
      } finally {
        off()
      }
    })()
  }
  return withInfo(aggregator, { name })
}
