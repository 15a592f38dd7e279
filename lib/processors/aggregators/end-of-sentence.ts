/**
 * `matchEndOfSentence(text)`: the end-of-sentence rule of the sentence aggregator.
 * @module
 */

/** Characters that end a sentence: `.` and `:` are checked further, the others always end one. */
const TERMINATORS = new Set(['.', '。', '?', '？', '!', '！', ':', '：'])
/** Closing quotes and brackets that may follow the terminator (`He said "Hi."`). */
const CLOSERS = /["'”’»)\]]+$/u
/** Opening quotes and brackets in front of the last word (`("Dr.`). */
const OPENERS = /^["'“‘«(\[]+/u
/** Titles that are always followed by a name: `Dr.` never ends a sentence. */
const TITLES = new Set(['Mr', 'Mrs', 'Ms', 'Mx', 'Dr', 'Prof'])
/** Latin abbreviations that are always followed by more (compared in lower case): `e.g.`, `i.e.`, `vs.`, `cf.`. */
const CONTINUED = new Set(['e.g', 'i.e', 'vs', 'cf', 'viz'])
/** A single capital letter other than the pronoun `I`, or dotted capitals (`J`, `U.S`, `U.S.A`): initials, followed by more. */
const INITIALS = /^(?:(?:[A-Z]\.)+[A-Z]|[A-HJ-Z])$/u
/** `5 a.` / `5 p.`: the middle of `5 a.m.` / `5 p.m.`. */
const CLOCK = /\d\s?[ap]$/u
/** A text that is only a number: `1.` is a list marker, not a sentence. */
const LIST_MARKER = /^\s*\d+$/u

/**
 * True when `text` (trailing whitespace ignored) is a complete sentence. Only the end of the text is looked at:
 *
 * - it must end with `.` `。` `?` `？` `!` `！` `:` or `：`, optionally followed by closing quotes or brackets
 *   (`He said "Hi."`); a comma never ends a sentence;
 * - `?`, `!`, `。` and the full-width marks always end it, whatever comes before (`Is it 20?`, `In the USA?`);
 * - `.` and `:` end it after a word or a number (`Your total is 20.`, `I live in the USA.`, `Note:`), except after
 *   the titles `Mr` `Mrs` `Ms` `Mx` `Dr` `Prof`, after `e.g.` `i.e.` `vs.` `cf.` `viz.`, after initials — a single
 *   capital other than `I` (`John F.`) or dotted capitals (`U.S.`, `U.S.A.`) —, in the middle of `5 p.m.` (`5 p.`), and when the
 *   whole text is a number (`1.`, a list marker).
 *
 * A number followed by `.` or `:` may still go on (`3.` then `14`, `10:` then `30`): the sentence aggregator
 * therefore waits for the next text before it emits such a sentence, unless a flush comes first.
 *
 * @example
 * ```ts
 * import { matchEndOfSentence } from 'apipeline-ts'
 *
 * matchEndOfSentence('Your total is 20.')   // true
 * matchEndOfSentence('I live in the USA.')  // true
 * matchEndOfSentence('Hello, ')             // false
 * matchEndOfSentence('Talk to Dr.')         // false
 * matchEndOfSentence('Made in the U.S.A.')  // false: initials are followed by more, usually
 * matchEndOfSentence('你叫什么？')            // true
 * ```
 */
export function matchEndOfSentence(text: string): boolean {
  if (typeof text !== 'string') throw new TypeError('matchEndOfSentence(text): text must be a string')
  const trimmed = text.trimEnd().replace(CLOSERS, '')
  const last = trimmed.at(-1)
  if (last === undefined || !TERMINATORS.has(last)) return false
  if (last !== '.' && last !== ':') return true
  const before = trimmed.slice(0, -1)
  if (LIST_MARKER.test(before)) return false
  if (last === ':') return true
  const word = (/\S*$/u.exec(before)?.[0] ?? '').replace(OPENERS, '')
  if (TITLES.has(word) || CONTINUED.has(word.toLowerCase())) return false
  if (INITIALS.test(word)) return false
  if (CLOCK.test(before)) return false
  return true
}

/**
 * True when `sentence` ends with a number and `.` or `:` that the next text could continue (`3.` → `3.14`,
 * `10:` → `10:30`).
 * @internal
 * @example
 * ```ts
 * mayContinueNumber('Pi is 3.') // true
 * mayContinueNumber('Hi.')      // false
 * ```
 */
export function mayContinueNumber(sentence: string): boolean {
  return /\d[.:]$/u.test(sentence)
}
