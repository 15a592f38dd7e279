/**
 * `matchEndOfSentence(text)`: the end-of-sentence rule of the sentence aggregator.
 * @module
 */

// The text must end with . 。 ? ？ ! ！ : ： not preceded by an uppercase letter or a digit ("U.S.", "3.") nor by
// "<digit> a"/"<digit> p" ("5 p.") nor by the abbreviations Mr, Ms, Dr, Mrs, Prof. A comma is not an end.
const END_OF_SENTENCE = /(?<![A-Z])(?<!\d)(?<!\d\s[ap])(?<!Mr|Ms|Dr)(?<!Mrs)(?<!Prof)[.。?？!！:：]$/u

/**
 * True when `text` (trailing whitespace ignored) ends a sentence, by the rule of the Python apipeline
 * `match_endofsentence`: it ends with `.`, `。`, `?`, `？`, `!`, `！`, `:` or `：`, not right after an uppercase letter,
 * a digit, `"<digit> a"`/`"<digit> p"`, or the abbreviations `Mr`, `Ms`, `Dr`, `Mrs`, `Prof`. Commas do not end
 * sentences. Only the end of the text is looked at, never the middle.
 *
 * @example
 * ```ts
 * matchEndOfSentence('Hello world.')  // true
 * matchEndOfSentence('Hello, ')       // false
 * matchEndOfSentence('Talk to Dr.')   // false
 * matchEndOfSentence('你叫什么？')      // true
 * ```
 */
export function matchEndOfSentence(text: string): boolean {
  if (typeof text !== 'string') throw new TypeError('matchEndOfSentence(text): text must be a string')
  return END_OF_SENTENCE.test(text.trimEnd())
}
