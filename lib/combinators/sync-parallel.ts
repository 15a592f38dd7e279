/**
 * `syncParallel(...branches)`: fan-out / merge with a per-input barrier.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { Junction } from './junction.js'
import { parseFanOut, type Branch, type FanOutOptions } from './options.js'

/**
 * Runs every branch on the whole input, one input frame at a time, and releases the outputs that all branches
 * produced for that frame together, in branch order (DESIGN rule 10).
 *
 * - **Barrier without markers**: a branch has finished with input frame *k* when it asks its input for the next frame
 *   (or ends). The element hands frame *k + 1* to the branches only after every branch has finished with *k* and the
 *   held outputs have been released and taken by the consumer (lock-step, pull-based). No marker frame travels through
 *   the branches, so a branch that drops frames, emits nothing, throws (its guarded stage reports the error upstream and
 *   restarts) or ends early cannot stall the barrier.
 * - **Release order**: branch 0's outputs for the frame, then branch 1's, …; `start` first and `end` last; a frame
 *   object yielded by several branches (same id) is released once, at its first place. Lifecycle frames are joined as
 *   in `parallel`: emitted once, after every branch has passed them.
 * - **Nesting**: a `syncParallel` branch may contain `syncParallel` or `parallel` elements at any depth; a nested
 *   `parallel` runs in lock-step there (it reads its next input only once its branches are idle and its output is
 *   drained), so the barrier stays exact.
 * - **Frames produced between inputs** (a timer in a branch while every branch waits for input) are emitted at once;
 *   upstream frames (errors included) go on immediately, once per id.
 * - **Memory**: one input frame in flight; the held outputs are what the branches produce for it.
 * - **Teardown, interruptions, upstream**: as `parallel`.
 *
 * Limitation: a branch containing a stage that reads ahead of what it has emitted (a buffered/async stage with its own
 * queue, or any processor that pulls its source before it has finished with the current frame) asks for the next
 * frame early, so part of its output for frame *k* is released with frame *k + 1*. Nothing is lost or duplicated;
 * only the grouping shifts.
 *
 * @example
 * ```ts
 * import { syncParallel, map, run, Frames, type Frame } from 'apipeline-ts'
 *
 * const slowUpper = async function* (source: AsyncIterable<Frame>) {
 *   for await (const f of source) {
 *     await new Promise((r) => setTimeout(r, 10))
 *     yield f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f
 *   }
 * }
 * const exclaim = map((f) => (f.type === 'text' ? Frames.text(`${f.text}!`) : f))
 * for await (const f of run(syncParallel(slowUpper, exclaim), [Frames.text('a'), Frames.text('b')])) {
 *   console.log(Frames.format(f)) // start, A, a!, B, b!, end — always in this order
 * }
 * ```
 */
export function syncParallel(options: FanOutOptions, ...branches: Branch[]): Processor
export function syncParallel(...branches: Branch[]): Processor
export function syncParallel(...args: unknown[]): Processor {
  const parsed = parseFanOut('syncParallel', args)
  const processor: ProcessorFn = (source: AsyncIterable<Frame>, ctx?: ProcessorContext) =>
    new Junction(
      { mode: 'sync', branches: parsed.branches, capacity: parsed.capacity, dedupeWindow: parsed.dedupeWindow, maxBuffered: parsed.maxBuffered },
      source,
      asContext(ctx, 'syncParallel'),
    )
  return withInfo(processor, { name: parsed.name ?? 'syncParallel', kind: 'syncParallel', branches: parsed.branches })
}
