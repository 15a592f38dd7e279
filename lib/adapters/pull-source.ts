/**
 * The iterator behind the pull-based input adapters (pushable, ReadableStream, Node Readable): decodes chunks into
 * frames and closes the underlying source on early teardown, even while a read is pending.
 * @module
 */
import { isFrame } from '../frames/guards.js'
import type { Frame } from '../frames/types.js'
import { describe } from '../frames/validate.js'
import { yielded } from '../internal/yielded.js'

/** Turns one chunk of the underlying source into zero or more frames (`undefined` = none). */
export type ChunkDecoder = (chunk: any) => Frame | Iterable<Frame> | undefined

/** How the adapter talks to its source. */
export interface PullSourceHooks {
  /** Reads the next chunk. */
  read(): Promise<IteratorResult<unknown>>
  /** Early teardown: cancel/destroy the source (a pending `read()` may then settle or not). */
  cancel(): void | Promise<unknown>
  /** After the source ended by itself, or after `cancel`: release locks. */
  release?(): void
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/** Validates the decoder's output for one chunk. */
function decodeChunk(where: string, decode: ChunkDecoder | undefined, chunk: unknown, out: Frame[]): void {
  const result = decode === undefined ? chunk : decode(chunk)
  if (result === undefined && decode !== undefined) return
  if (isFrame(result)) {
    out.push(result)
    return
  }
  if (decode !== undefined && result !== null && typeof result === 'object' && Symbol.iterator in result) {
    for (const f of result as Iterable<unknown>) {
      if (!isFrame(f)) throw new TypeError(`${where}: decode() gave a value that is not a frame: ${describe(f)}`)
      out.push(f)
    }
    return
  }
  throw new TypeError(
    decode === undefined
      ? `${where}: the source gave a value that is not a frame (${describe(result)}); pass a decode function`
      : `${where}: decode() must return a frame, an iterable of frames or undefined, got ${describe(result)}`,
  )
}

/**
 * An `AsyncIterator<Frame>` over a chunk source. `return()` cancels the source and settles a pending `next()` with
 * `done` at once; errors of the source after teardown are ignored.
 * @internal
 */
export class PullSource implements AsyncIterator<Frame> {
  private readonly buffered: Frame[] = []
  private closed = false
  private pending: ((r: IteratorResult<Frame>) => void) | undefined
  private chain: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly where: string,
    private readonly hooks: PullSourceHooks,
    private readonly decode: ChunkDecoder | undefined,
  ) {}

  next(): Promise<IteratorResult<Frame>> {
    const result = this.chain.then(() => this.pull())
    this.chain = result.catch(() => {})
    return result
  }

  return(): Promise<IteratorResult<Frame>> {
    if (this.closed) return Promise.resolve(DONE)
    this.closed = true
    this.buffered.length = 0
    const pending = this.pending
    this.pending = undefined
    pending?.(DONE)
    return this.cancelSource()
  }

  /** Cancels the source, then releases it; never rejects. */
  private cancelSource(): Promise<IteratorResult<Frame>> {
    let cancelled: Promise<unknown>
    try {
      cancelled = Promise.resolve(this.hooks.cancel())
    } catch (err) {
      cancelled = Promise.reject(err)
    }
    return cancelled.then(
      () => this.finish(),
      () => this.finish(),
    )
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private finish(): IteratorResult<Frame> {
    try {
      this.hooks.release?.()
    } catch {
      // Releasing a lock of a source that is already gone.
    }
    return DONE
  }

  private pull(): Promise<IteratorResult<Frame>> {
    if (this.closed) return Promise.resolve(DONE)
    const buffered = this.buffered.shift()
    if (buffered !== undefined) return Promise.resolve(yielded(buffered))
    return new Promise<IteratorResult<Frame>>((resolve, reject) => {
      this.pending = resolve
      const settle = (r: IteratorResult<Frame>): void => {
        if (this.pending !== resolve) return
        this.pending = undefined
        resolve(r)
      }
      const fail = (err: unknown): void => {
        if (this.pending !== resolve) return
        this.pending = undefined
        this.closed = true
        this.finish()
        reject(err)
      }
      const readOne = (): void => {
        this.hooks.read().then((chunk) => {
          if (this.pending !== resolve) return
          if (chunk.done === true) {
            this.closed = true
            this.finish()
            settle(DONE)
            return
          }
          try {
            decodeChunk(this.where, this.decode, chunk.value, this.buffered)
          } catch (err) {
            // A chunk that cannot be decoded ends the input: cancel the source, fail the read.
            this.pending = undefined
            this.closed = true
            this.buffered.length = 0
            void this.cancelSource()
            reject(err)
            return
          }
          const first = this.buffered.shift()
          if (first === undefined) readOne()
          else settle(yielded(first))
        }, fail)
      }
      readOne()
    })
  }
}
