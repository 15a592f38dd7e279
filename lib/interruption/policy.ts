/**
 * `interruptionPolicy(options)`: decides when the user's speech interrupts the bot.
 *
 * Place it where the user's input enters the pipeline (after speech-to-text, before the model). It forwards every
 * frame unchanged and, once the user's speech of the current user turn meets every configured threshold, sends one
 * `interruptionTask` upstream (the task interrupts, if it allows interruptions). A user turn ends at
 * `stopInterruption` (the user stopped speaking) or at `end`; the counts then start again.
 *
 * | frame | effect |
 * |---|---|
 * | `text` (a transcript of the user) | its words count towards `minWords`, unless the transcript is only backchannels ("mm-hmm", "yeah", …) |
 * | `audioRaw` (the user's speech) | its duration counts towards `minDurationMs` |
 * | `stopInterruption`, `end` | the user turn ends: the counts restart |
 * | anything else | no effect |
 *
 * Frames that count as the user's speech can be chosen with `isSpeech` (e.g. only transcripts marked as the user's).
 * @module
 */
import { withInfo, type Processor } from '../core/processor.js'
import { interruptionTask } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'

/**
 * Short answers that acknowledge the speaker without taking the turn (the default backchannel list).
 * @example
 * ```ts
 * import { DEFAULT_BACKCHANNELS, interruptionPolicy } from 'apipeline-ts'
 *
 * const policy = interruptionPolicy({ backchannels: [...DEFAULT_BACKCHANNELS, 'claro', 'vale'] })
 * ```
 */
export const DEFAULT_BACKCHANNELS: readonly string[] = Object.freeze([
  'mm-hmm', 'mhm', 'mm', 'hmm', 'uh-huh', 'uh huh', 'yeah', 'yep', 'yes', 'ok', 'okay', 'right', 'sure', 'i see', 'got it', 'ah', 'oh',
])

/** Options of {@link interruptionPolicy}. */
export interface InterruptionPolicyOptions {
  /** Words of transcript (backchannels excluded) the user must have said before an interruption fires. Default 1. */
  readonly minWords?: number
  /** Milliseconds of user speech audio before an interruption fires. Default 0 (no audio needed). */
  readonly minDurationMs?: number
  /**
   * Transcripts made only of these phrases (case, punctuation and repetitions ignored) do not count as words: the user
   * is acknowledging, not taking the turn. Default {@link DEFAULT_BACKCHANNELS}; `[]` counts every word.
   */
  readonly backchannels?: readonly string[]
  /** Which frames are the user's speech. Default: `text` and `audioRaw` frames. */
  readonly isSpeech?: (frame: Frame) => boolean
  /** Called when the policy decides to interrupt (after the `interruptionTask` was sent). */
  readonly onInterrupt?: (reason: { words: number; durationMs: number }) => void
  /** Display name. Default `interruptionPolicy`. */
  readonly name?: string
}

function nonNegative(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${where} must be a finite number >= 0`)
  return value
}

/** Lower case, punctuation removed, spaces collapsed. */
function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s'-]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}

/** True when `text` is nothing but backchannel phrases (e.g. "Mm-hmm, yeah."). */
function onlyBackchannels(text: string, phrases: readonly string[]): boolean {
  let rest = normalize(text)
  if (rest === '' || phrases.length === 0) return false
  for (;;) {
    const before = rest
    for (const p of phrases) {
      if (rest === p) return true
      if (rest.startsWith(`${p} `)) rest = rest.slice(p.length + 1)
    }
    if (rest === before) return false
  }
}

/**
 * A processor that sends `interruptionTask` upstream once the user has said enough (see the module documentation).
 * @example
 * ```ts
 * import { interruptionPolicy, pipeline, PipelineTask } from 'apipeline-ts'
 *
 * // Interrupt the bot only after 3 real words and 500 ms of speech; "mm-hmm" and "yeah" never interrupt.
 * const policy = interruptionPolicy({ minWords: 3, minDurationMs: 500 })
 * const task = new PipelineTask(pipeline(stt, policy, llm, tts), { allowInterruptions: true })
 * ```
 */
export function interruptionPolicy(options: InterruptionPolicyOptions = {}): Processor {
  if (options === null || typeof options !== 'object') throw new TypeError('interruptionPolicy(options) must be an object')
  const minWords = nonNegative('interruptionPolicy: minWords', options.minWords, 1)
  const minDurationMs = nonNegative('interruptionPolicy: minDurationMs', options.minDurationMs, 0)
  const backchannels = options.backchannels ?? DEFAULT_BACKCHANNELS
  if (!Array.isArray(backchannels) || backchannels.some((b) => typeof b !== 'string')) {
    throw new TypeError('interruptionPolicy: backchannels must be an array of strings')
  }
  const phrases = [...new Set(backchannels.map(normalize).filter((p) => p !== ''))].sort((a, b) => b.length - a.length)
  const isSpeech = options.isSpeech ?? ((f: Frame) => f.kind === 'data' && (f.type === 'text' || f.type === 'audioRaw'))
  if (typeof isSpeech !== 'function') throw new TypeError('interruptionPolicy: isSpeech must be a function')
  const onInterrupt = options.onInterrupt
  if (onInterrupt !== undefined && typeof onInterrupt !== 'function') throw new TypeError('interruptionPolicy: onInterrupt must be a function')
  const name = options.name ?? 'interruptionPolicy'

  const processor: Processor = async function* interruptionPolicyGen(source, ctx) {
    let words = 0
    let durationMs = 0
    let fired = false
    for await (const frame of source) {
      if ((frame.kind === 'system' && frame.type === 'stopInterruption') || (frame.kind === 'control' && frame.type === 'end')) {
        words = 0
        durationMs = 0
        fired = false
      } else if (!fired && frame.kind === 'data' && isSpeech(frame)) {
        if (frame.type === 'text') {
          if (!onlyBackchannels(frame.text, phrases)) words += normalize(frame.text).split(' ').filter((w) => w !== '').length
        } else if (frame.type === 'audioRaw') {
          durationMs += (frame.numFrames / frame.sampleRate) * 1000
        }
        const spoke = words > 0 || durationMs > 0
        if (spoke && words >= minWords && durationMs >= minDurationMs) {
          fired = true
          ctx?.pushUpstream(interruptionTask())
          onInterrupt?.({ words, durationMs })
        }
      }
      yield frame
    }
  }
  return withInfo(processor, { name })
}
