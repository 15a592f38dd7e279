/**
 * A nesting-depth check of JSON text that runs before `JSON.parse`.
 * @module
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_ARRAY = 0x5b
const OPEN_OBJECT = 0x7b
const CLOSE_ARRAY = 0x5d
const CLOSE_OBJECT = 0x7d

/**
 * True when the arrays and objects of the JSON `text` nest deeper than `max` levels (`[[1]]` is 2 levels deep).
 * Strings are skipped with `indexOf` (brackets inside them do not count), so the cost is one pass over the structure
 * and a native search through string contents — small next to `JSON.parse`, and it stops at the first level too
 * deep instead of letting `JSON.parse` build a million nested arrays. Text that is not JSON is left to `JSON.parse`
 * to refuse.
 * @internal
 * @example
 * ```ts
 * nestsDeeperThan('{"data":[[1]]}', 2) // true: 3 levels
 * nestsDeeperThan('{"text":"[[[["}', 1) // false: brackets inside a string do not count
 * ```
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      // Jump to the closing quote: the next quote not escaped by an odd number of backslashes.
      let j = i
      for (;;) {
        j = text.indexOf('"', j + 1)
        if (j < 0) return false
        let backslashes = 0
        while (text.charCodeAt(j - 1 - backslashes) === BACKSLASH) backslashes++
        if (backslashes % 2 === 0) break
      }
      i = j
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--
    }
  }
  return false
}
