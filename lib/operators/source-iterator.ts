/**
 * `sourceIterator(source)`: the async iterator of a processor's source, whether the source is async or sync.
 * @module
 */

/**
 * Returns an async iterator over `source`: its own `[Symbol.asyncIterator]()` when it has one, else one that walks
 * the sync iterable (an array, `it-map` over an array, …). For processors that drive their source by hand instead
 * of with `for await`, which accepts both already.
 * @internal
 * @example
 * ```ts
 * const iterator = sourceIterator([Frames.text('a'), Frames.text('b')])
 * const first = await iterator.next() // { value: <text 'a'>, done: false }
 * ```
 */
export function sourceIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> {
  const asyncSource = source as Partial<AsyncIterable<T>>
  const open = asyncSource[Symbol.asyncIterator]
  if (typeof open === 'function') return open.call(source)
  if (typeof (source as Partial<Iterable<T>>)[Symbol.iterator] !== 'function') {
    throw new TypeError('a processor source must be an AsyncIterable or an Iterable')
  }
  return (async function* syncSource() {
    yield* source as Iterable<T>
  })()
}
