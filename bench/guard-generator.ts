/**
 * The B2 generator body for `bench/guard.ts`. Each variant imports its own instance of this module (a distinct
 * `?variant=` query), so no variant's generators share type feedback with another's: the bare chain's generators
 * only ever read native async generators, a guarded variant's only its own views.
 */
import type { Frame } from '../lib/index.js'

/** `for await (const frame of source) yield fn(frame)`, started over `source`. */
export const generator =
  (fn: (frame: Frame) => Frame) =>
  (source: AsyncIterable<Frame>): AsyncIterator<Frame> =>
    (async function* general() {
      for await (const frame of source) yield fn(frame)
    })()

/** The same body as a processor of the library. */
export const processor = (fn: (frame: Frame) => Frame) =>
  async function* general(source: AsyncIterable<Frame>): AsyncGenerator<Frame> {
    for await (const frame of source) yield fn(frame)
  }

/** The frame source of a variant: an async generator over an array. */
export async function* source(frames: readonly Frame[]): AsyncGenerator<Frame> {
  for (const frame of frames) yield frame
}

/** The consumer of a variant: counts what `frames` yields. */
export async function count(frames: AsyncIterable<Frame>): Promise<number> {
  let n = 0
  for await (const _ of frames) n++
  return n
}
