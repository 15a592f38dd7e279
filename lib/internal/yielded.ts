/**
 * Iterator results and queue records made by the library's hot paths, as class instances rather than object literals.
 *
 * V8 tracks where each object literal is allocated and, when most objects of one literal are still alive at a young
 * generation collection, allocates every later object of that literal directly in the old generation for the rest of
 * the process ("pretenuring"). For a literal made once per frame — an iterator result, a waiting reader — one
 * unlucky collection (taken while a burst of frames is queued) was enough: from then on each result cost an old-space
 * allocation, a write barrier and a share of full collections, and the same run took 1–3x its usual time at random
 * from one process to the next. Instances of a class are not tracked that way, so a short-lived result stays cheap.
 * @module
 */

/** A `{ done: false, value }` iterator result. */
class Yielded<T> implements IteratorYieldResult<T> {
  declare readonly done: false
  declare readonly value: T
  constructor(value: T) {
    this.done = false
    this.value = value
  }
}

/**
 * The iterator result `{ done: false, value }`.
 * @example
 * ```ts
 * const r: IteratorResult<number> = yielded(1) // r.done === false, r.value === 1
 * ```
 */
export function yielded<T>(value: T): IteratorYieldResult<T> {
  return new Yielded(value)
}

/**
 * A promise's settle functions, kept by a reader waiting for a value.
 * @example
 * ```ts
 * let reader: Waiting<number> | undefined
 * const value = new Promise<number>((resolve, reject) => (reader = new Waiting(resolve, reject)))
 * reader?.resolve(1)
 * ```
 */
export class Waiting<T> {
  constructor(
    readonly resolve: (value: T) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}
