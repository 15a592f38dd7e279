/**
 * What a push-based input adapter does when its bounded buffer is full.
 * @module
 */

/**
 * The overflow policy of a push-based input adapter whose buffer is full:
 * - `'error'` (default): the input fails with a {@link BufferOverflowError} (the run ends `'errored'`) — loud, never lossy;
 * - `'wait'`: `push()` returns a promise that settles once the frame is stored; the producer must await it (backpressure);
 * - `'dropOldest'`: the oldest buffered frame is dropped to make room (`onDrop` sees it);
 * - `'dropNewest'`: the pushed frame is dropped (`onDrop` sees it).
 */
export type OverflowPolicy = 'error' | 'wait' | 'dropOldest' | 'dropNewest'

/**
 * The error an input adapter fails with when its buffer overflows under the `'error'` policy.
 * @example
 * ```ts
 * try {
 *   for await (const f of run(p, input)) use(f)
 * } catch (e) {
 *   if (e instanceof PipelineError && e.frame.cause instanceof BufferOverflowError) console.warn('input overflowed')
 * }
 * ```
 */
export class BufferOverflowError extends Error {
  override readonly name = 'BufferOverflowError'
  /** The capacity that was exceeded. */
  readonly capacity: number
  constructor(capacity: number, where = 'input adapter') {
    super(`${where}: buffer overflow (capacity ${capacity}); slow consumer or too fast producer`)
    this.capacity = capacity
  }
}

/** Checks an `overflow` option. @internal */
export function parseOverflow(where: string, value: unknown, fallback: OverflowPolicy): OverflowPolicy {
  if (value === undefined) return fallback
  if (value === 'error' || value === 'wait' || value === 'dropOldest' || value === 'dropNewest') return value
  throw new TypeError(`${where}: overflow must be 'error', 'wait', 'dropOldest' or 'dropNewest'`)
}

/** Checks a `capacity` option (an integer >= 1). @internal */
export function parseCapacity(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${where}: capacity must be an integer >= 1, got ${String(value)}`)
  }
  return value
}
