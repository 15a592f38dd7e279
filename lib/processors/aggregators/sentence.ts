/**
 * `sentenceAggregator()`: join text frames into whole sentences.
 * @module
 */
import { asContext, type ProcessorContext } from '../../core/context.js'
import { withInfo, type Processor } from '../../core/processor.js'
import { text as textFrame } from '../../frames/constructors.js'
import { isInterruption } from '../../frames/guards.js'
import type { Frame } from '../../frames/types.js'
import { closeQuietly } from '../../internal/close.js'
import { WAKE, Wake } from '../../internal/wake.js'
import { sourceIterator } from '../../operators/source-iterator.js'
import { reportError } from '../../operators/two-way.js'
import { matchEndOfSentence } from './end-of-sentence.js'
import { SentenceBuffer } from './sentence-buffer.js'

/** Options of {@link sentenceAggregator}. */
export interface SentenceAggregatorOptions {
  /**
   * Decides whether the accumulated text is a complete sentence; a sentence is emitted as soon as it says so.
   * Default {@link matchEndOfSentence}, with one refinement: a sentence ending in a number and `.` or `:` waits for
   * the next text (a digit continues the number, anything else releases the sentence first).
   */
  readonly isEndOfSentence?: (text: string) => boolean
  /**
   * What a downstream interruption frame (`startInterruption`, `interruption`) does to the unfinished sentence:
   * `'drop'` (default) discards it — it belongs to the interrupted turn; `'flush'` emits it before the interruption
   * frame; `'keep'` keeps it and the next text is appended to it.
   */
  readonly interruption?: 'drop' | 'flush' | 'keep'
  /**
   * Emits the unfinished text when no text has arrived for this many milliseconds (in each direction), so that the
   * last sentence of a response that ends without punctuation, or with a number, is not held until the next turn.
   * A finite number > 0; default: no timeout. The timer is cleared at `end`, on teardown and whenever the text is
   * emitted or dropped.
   */
  readonly timeoutMs?: number
  /**
   * Frames (other than text) that end a response: the unfinished text is emitted before such a frame passes, in the
   * direction it travels. Default: `sync` frames — send `Frames.sync()` after the last token of a response. Use it for
   * your own response-end frame, e.g. `flushOn: (f) => f.type === 'sync' || f.type === 'llmResponseEnd'`.
   */
  readonly flushOn?: (frame: Frame) => boolean
  /** Display name. Default `'sentenceAggregator'`. */
  readonly name?: string
}

const isSync = (frame: Frame): boolean => frame.kind === 'control' && frame.type === 'sync'
const isText = (frame: Frame): frame is Frame & { readonly kind: 'data'; readonly type: 'text'; readonly text: string } =>
  frame.kind === 'data' && frame.type === 'text'
const noop = (): void => {}

/** A restartable one-shot timer. */
function flushTimer(ms: number | undefined, fire: () => void): { restart(): void; clear(): void; readonly armed: boolean } {
  let id: ReturnType<typeof setTimeout> | undefined
  return {
    restart() {
      if (ms === undefined) return
      if (id !== undefined) clearTimeout(id)
      id = setTimeout(() => {
        id = undefined
        fire()
      }, ms)
    },
    clear() {
      if (id !== undefined) clearTimeout(id)
      id = undefined
    },
    get armed() {
      return id !== undefined
    },
  }
}

/**
 * Accumulates `text` frames and emits one new text frame per complete sentence, in the direction the text was
 * travelling (the Python aggregator turned upstream text around). Only the end of the accumulated text is tested
 * ({@link matchEndOfSentence}): `"Hello, "` + `"world."` gives one frame `"Hello, world."`; a sentence ending with a
 * number (`"Your total is 20."`) goes out when the next text starts with something other than a digit.
 *
 * Unfinished text is emitted (flushed) before `end`, before a `sync` frame (the response-end marker; see `flushOn`),
 * after `timeoutMs` without new text when that option is set, and when the source is exhausted, so nothing is
 * lost. Once `end` has passed downstream, text pushed upstream (e.g. a later stage's reaction to the flushed
 * sentence) goes on at once, unaggregated. Other frames pass at once without flushing, so they may overtake an
 * unfinished sentence.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass; interruptions also apply the `interruption` policy (default: drop the unfinished sentence) | pass |
 * | control | pass; `end` first flushes the unfinished sentence (both directions); `sync` (`flushOn`) first flushes the downstream text | pass; `end` and `sync` (`flushOn`) first flush the upstream text |
 * | data | `text` accumulated, sentences emitted downstream; `audioRaw`/`imageRaw` pass | `text` accumulated, sentences sent upstream (at once after `end`); others pass |
 * | app | pass (`flushOn` may make one flush first) | pass (idem) |
 *
 * @example
 * ```ts
 * import { sentenceAggregator, run, Frames } from 'apipeline-ts'
 *
 * const input = ['Hello, ', 'world.', ' Your total is 20', '.', ' Bye'].map((t) => Frames.text(t))
 * for await (const f of run(sentenceAggregator({ timeoutMs: 500 }), input)) if (f.kind === 'data' && f.type === 'text') console.log(f.text)
 * // "Hello, world."  " Your total is 20."  " Bye" (flushed at end)
 * ```
 */
export function sentenceAggregator(options: SentenceAggregatorOptions = {}): Processor {
  if (options === null || typeof options !== 'object') throw new TypeError('sentenceAggregator(options) must be an object')
  const name = options.name ?? 'sentenceAggregator'
  const custom = options.isEndOfSentence
  if (custom !== undefined && typeof custom !== 'function') throw new TypeError('sentenceAggregator: isEndOfSentence must be a function')
  const isEnd = custom ?? matchEndOfSentence
  const onInterruption = options.interruption ?? 'drop'
  if (onInterruption !== 'drop' && onInterruption !== 'flush' && onInterruption !== 'keep') {
    throw new TypeError("sentenceAggregator: interruption must be 'drop', 'flush' or 'keep'")
  }
  const timeoutMs = options.timeoutMs
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    throw new TypeError(`sentenceAggregator: timeoutMs must be a finite number > 0, got ${String(timeoutMs)}`)
  }
  const flushOn = options.flushOn ?? isSync
  if (typeof flushOn !== 'function') throw new TypeError('sentenceAggregator: flushOn must be a function')

  const aggregator = (source: AsyncIterable<Frame> | Iterable<Frame>, context?: ProcessorContext): AsyncIterable<Frame> => {
    const ctx = asContext(context, name)
    // A custom rule or predicate that throws is reported; the text keeps accumulating.
    const complete = (text: string): boolean => {
      try {
        return isEnd(text) === true
      } catch (err) {
        reportError(ctx, err)
        return false
      }
    }
    const flushes = (frame: Frame): boolean => {
      try {
        return flushOn(frame) === true
      } catch (err) {
        reportError(ctx, err)
        return false
      }
    }
    return (async function* sentenceAggregatorGen() {
      const down = new SentenceBuffer(complete, custom === undefined)
      const up = new SentenceBuffer(complete, custom === undefined)
      // Set once `end` reaches this stage downstream: no later flush will come, so upstream text is not held.
      let ended = false
      let downDue = false
      const wake = new Wake()
      const downTimer = flushTimer(timeoutMs, () => {
        downDue = true
        wake.notify()
      })
      const upTimer = flushTimer(timeoutMs, () => {
        const rest = up.take()
        if (rest !== undefined) ctx.pushUpstream(textFrame(rest))
      })
      const off = ctx.onUpstream((frame, next) => {
        if (isText(frame)) {
          for (const sentence of up.push(frame.text)) next(textFrame(sentence))
          const rest = ended ? up.take() : undefined
          if (rest !== undefined) next(textFrame(rest))
          if (up.holding) upTimer.restart()
          else upTimer.clear()
          return
        }
        if ((frame.kind === 'control' && frame.type === 'end') || flushes(frame)) {
          upTimer.clear()
          const rest = up.take()
          if (rest !== undefined) next(textFrame(rest))
        }
        next(frame)
      })
      const input = sourceIterator(source)
      let pending: Promise<IteratorResult<Frame>> | undefined
      let exhausted = false
      try {
        for (;;) {
          if (downDue) {
            downDue = false
            const rest = down.take()
            if (rest !== undefined) yield textFrame(rest)
            continue
          }
          pending ??= input.next()
          let result: IteratorResult<Frame>
          if (downTimer.armed) {
            // The consumer may stop this generator while it yields a timed flush: never leave a rejection unobserved.
            pending.catch(noop)
            const got = await Promise.race([pending, wake.wait()])
            if (got === WAKE) continue
            result = got
          } else {
            result = await pending
          }
          pending = undefined
          if (result.done === true) {
            exhausted = true
            downTimer.clear()
            const rest = down.take()
            if (rest !== undefined) yield textFrame(rest)
            return
          }
          const frame = result.value
          if (isText(frame)) {
            const sentences = down.push(frame.text)
            if (down.holding) downTimer.restart()
            else downTimer.clear()
            for (const sentence of sentences) yield textFrame(sentence)
            continue
          }
          if (frame.kind === 'control' && frame.type === 'end') {
            ended = true
            downTimer.clear()
            upTimer.clear()
            const upRest = up.take()
            if (upRest !== undefined) ctx.pushUpstream(textFrame(upRest))
            const rest = down.take()
            if (rest !== undefined) yield textFrame(rest)
          } else if (flushes(frame)) {
            downTimer.clear()
            const rest = down.take()
            if (rest !== undefined) yield textFrame(rest)
          } else if (isInterruption(frame) && down.holding && onInterruption !== 'keep') {
            downTimer.clear()
            const rest = down.take()
            if (onInterruption === 'flush' && rest !== undefined) yield textFrame(rest)
          }
          yield frame
        }
      } finally {
        off()
        downTimer.clear()
        upTimer.clear()
        if (!exhausted) void closeQuietly(input)
      }
    })()
  }
  return withInfo(aggregator, { name })
}
