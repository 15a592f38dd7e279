/**
 * An arbitrary of small, deterministic, well-behaved processors, for property tests of combinators: every generated
 * processor forwards `start` and `end` and every frame it does not transform, keeps order, and gives the same output
 * (up to frame ids) for the same input.
 * @module
 */
import fc from 'fast-check'
import type { Arbitrary } from 'fast-check'
import { withInfo, type Processor } from '../core/processor.js'
import * as F from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { filter } from '../operators/filter.js'
import { flatMap } from '../operators/flat-map.js'
import { map } from '../operators/map.js'

const PRINT = Symbol.for('fast-check/toStringMethod')

/** The shapes {@link arbProcessor} can generate. */
export type ArbProcessorKind =
  | 'identity'
  | 'suffix'
  | 'drop'
  | 'duplicate'
  | 'asyncSuffix'
  | 'batch'
  | 'pushUpstream'

/**
 * Every shape {@link arbProcessor} generates by default.
 * @example
 * ```ts
 * arbProcessor({ kinds: ARB_PROCESSOR_KINDS.filter((k) => k !== 'batch') }) // only per-frame processors
 * ```
 */
export const ARB_PROCESSOR_KINDS: readonly ArbProcessorKind[] = Object.freeze([
  'identity',
  'suffix',
  'drop',
  'duplicate',
  'asyncSuffix',
  'batch',
  'pushUpstream',
])

function described<P extends Processor<any, any>>(processor: P, description: string): P {
  Object.defineProperty(processor, PRINT, { value: () => description, enumerable: false, configurable: true })
  return processor
}

const isText = (f: Frame): f is Extract<Frame, { type: 'text'; kind: 'data' }> => f.kind === 'data' && f.type === 'text'

/** A generator that forwards everything (not fusable). */
function identity(): Processor {
  return described(
    withInfo(async function* identity(source: AsyncIterable<Frame>) {
      for await (const frame of source) yield frame
    }, {}),
    'identity',
  )
}

/** Appends `s` to every text frame (a fusable `map`). */
function suffix(s: string): Processor {
  return described(map((f) => (isText(f) ? F.text(f.text + s) : f), `suffix(${s})`), `suffix(${JSON.stringify(s)})`)
}

/** Drops text frames whose length is `r` modulo `m` (a fusable `filter`; never drops lifecycle or system frames). */
function drop(m: number, r: number): Processor {
  return described(filter((f) => !(isText(f) && f.text.length % m === r), `drop(${m},${r})`), `drop(len % ${m} === ${r})`)
}

/** Emits every text frame twice, the copy with `'*'` appended (a fusable `flatMap`). */
function duplicate(): Processor {
  return described(
    flatMap((f: Frame): Frame[] => (isText(f) ? [f, F.text(`${f.text}*`)] : [f]), 'duplicate'),
    'duplicate',
  )
}

/** Appends `s` to text frames after an await per frame (a generator: not fusable). */
function asyncSuffix(s: string): Processor {
  return described(
    withInfo(
      async function* asyncSuffix(source: AsyncIterable<Frame>) {
        for await (const frame of source) {
          await Promise.resolve()
          yield isText(frame) ? F.text(frame.text + s) : frame
        }
      },
      { name: `asyncSuffix(${s})` },
    ),
    `asyncSuffix(${JSON.stringify(s)})`,
  )
}

/**
 * Joins up to `n` consecutive text frames into one; any other frame, and the end of the input, flushes what is held
 * first, so order is kept.
 */
function batch(n: number): Processor {
  return described(
    withInfo(
      async function* batch(source: AsyncIterable<Frame>) {
        let held: string[] = []
        const flush = (): Frame | undefined => {
          if (held.length === 0) return undefined
          const joined = F.text(held.join('|'))
          held = []
          return joined
        }
        for await (const frame of source) {
          if (isText(frame)) {
            held.push(frame.text)
            if (held.length >= n) yield flush() as Frame
            continue
          }
          const out = flush()
          if (out !== undefined) yield out
          yield frame
        }
        const out = flush()
        if (out !== undefined) yield out
      },
      { name: `batch(${n})` },
    ),
    `batch(${n})`,
  )
}

/** Forwards everything and pushes an app frame `seen` (tagged `tag`, with the text) upstream for each text frame. */
function pushUpstream(tag: string): Processor {
  return described(
    withInfo(
      async function* pushUpstream(source: AsyncIterable<Frame>, ctx) {
        for await (const frame of source) {
          if (isText(frame)) ctx.pushUpstream(F.app('seen', { tag, text: frame.text }))
          yield frame
        }
      },
      { name: `pushUpstream(${tag})` },
    ),
    `pushUpstream(${JSON.stringify(tag)})`,
  )
}

/** Options of {@link arbProcessor}. */
export interface ArbProcessorOptions {
  /** The shapes to draw from; default all of {@link ARB_PROCESSOR_KINDS}. */
  readonly kinds?: readonly ArbProcessorKind[]
}

/**
 * Small deterministic processors (fusable `map`/`filter`/`flatMap` steps, plain and async generators, a batching
 * stage, one that pushes frames upstream), printed readably in counterexamples. Every one is a well-behaved
 * processor: use them as the arguments of a combinator under test.
 *
 * @example
 * ```ts
 * fc.assert(fc.asyncProperty(arbProcessor(), arbFrames(), async (p, frames) => {
 *   await assertSameRun(myWrapper(p), p, frames)
 * }))
 * ```
 */
export function arbProcessor(options: ArbProcessorOptions = {}): Arbitrary<Processor> {
  if (options === null || typeof options !== 'object') throw new TypeError('arbProcessor(options) must be an object')
  const kinds = options.kinds ?? ARB_PROCESSOR_KINDS
  if (!Array.isArray(kinds) || kinds.length === 0) throw new TypeError('arbProcessor({ kinds }) must be a non-empty array')
  const tag = fc.constantFrom('a', 'b', 'c', 'd')
  const parts = kinds.map((kind: ArbProcessorKind): Arbitrary<Processor> => {
    switch (kind) {
      case 'identity':
        return fc.constant(null).map(() => identity())
      case 'suffix':
        return tag.map((s) => suffix(s))
      case 'drop':
        return fc.integer({ min: 2, max: 4 }).chain((m) => fc.nat({ max: m - 1 }).map((r) => drop(m, r)))
      case 'duplicate':
        return fc.constant(null).map(() => duplicate())
      case 'asyncSuffix':
        return tag.map((s) => asyncSuffix(s))
      case 'batch':
        return fc.integer({ min: 1, max: 3 }).map((n) => batch(n))
      case 'pushUpstream':
        return tag.map((s) => pushUpstream(s))
      default:
        throw new TypeError(`arbProcessor({ kinds }): unknown kind ${String(kind)}`)
    }
  })
  return fc.oneof(...parts)
}
