/**
 * The text one direction of the sentence aggregator holds, and when it becomes sentences.
 * @module
 */
import { mayContinueNumber } from './end-of-sentence.js'

/**
 * Accumulates text chunks and hands out complete sentences. With `waitAfterNumbers`, a sentence that ends with a
 * number and `.` / `:` (`"Your total is 20."`) is held until the next chunk shows that the number is over: a chunk
 * starting with a digit continues it (`"3."` + `"14"`), any other chunk releases it first. A flush releases it too.
 * @internal
 * @example
 * ```ts
 * const buffer = new SentenceBuffer(matchEndOfSentence, true)
 * buffer.push('Your total is 20.') // [] — a number may go on
 * buffer.push(' Thanks')           // ['Your total is 20.']
 * buffer.take()                    // ' Thanks'
 * ```
 */
export class SentenceBuffer {
  private text = ''
  /** The held text is a complete sentence waiting for the next chunk (see `waitAfterNumbers`). */
  private tentative = false

  constructor(
    private readonly isEnd: (text: string) => boolean,
    private readonly waitAfterNumbers: boolean,
  ) {}

  /** True while text is held. */
  get holding(): boolean {
    return this.text !== ''
  }

  /** Appends `chunk`; returns the sentences that are complete now (none, one, or two). */
  push(chunk: string): string[] {
    if (chunk === '') return []
    const out: string[] = []
    if (this.tentative) {
      this.tentative = false
      if (!/^\d/u.test(chunk)) {
        out.push(this.text)
        this.text = ''
      }
    }
    this.text += chunk
    if (this.isEnd(this.text)) {
      if (this.waitAfterNumbers && mayContinueNumber(this.text)) this.tentative = true
      else out.push(this.take() as string)
    }
    return out
  }

  /** Removes and returns the held text, `undefined` when there is none. */
  take(): string | undefined {
    this.tentative = false
    if (this.text === '') return undefined
    const text = this.text
    this.text = ''
    return text
  }
}
