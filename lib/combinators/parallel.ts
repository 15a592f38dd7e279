/**
 * `parallel(...branches)`: fan-out / merge.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { Junction } from './junction.js'
import { parseFanOut, type Branch, type FanOutOptions } from './options.js'

/**
 * Runs every branch on the whole input and merges their outputs as they are produced (DESIGN rule 9).
 *
 * - **Fan-out**: every input frame reaches every branch. Each branch reads from its own buffer of `capacity`
 *   frames (default 16); when one is full the element stops reading its input, so a slow branch slows the input and
 *   memory stays bounded. `cancel` and `stopTask` go ahead of queued frames; after `end`, `cancel` or `stopTask` the
 *   branch inputs close.
 * - **Merge**: one pump per branch into one bounded output queue; a pump that finds it full waits its turn in FIFO
 *   order, so a busy branch cannot starve another. Each branch's output order is kept; the interleaving between
 *   branches is the order in which they produced.
 * - **Join**: a frame object yielded by several branches (same id) is emitted once; the ids are remembered only while
 *   some branch may still yield them, at most `dedupeWindow` of them (default 1024). `start` is emitted once, when
 *   every branch has passed it — yielded it, asked for the input after it, or ended — and output a branch yields after
 *   its `start` waits until then. `end` (or `cancel`) is emitted once when every branch has yielded it or ended, and
 *   is the last frame out; a frame yielded after that is dropped and reported upstream as a non-fatal `error`.
 *   A branch that swallows `start` or `end` does not block the join, and the element still emits them.
 * - **Upstream**: frames a branch pushes upstream reach the stages before the element and the task once per id.
 *   Frames pushed upstream by stages after the element pass every branch's upstream handlers; each resulting frame
 *   goes on once.
 * - **Errors**: each branch is a guarded `pipeline`: an exception becomes an upstream `error` frame naming the stage
 *   (`…/parallel/branch<i>/<stage>`) and the stage goes on with the rest of its input; a fatal one ends the task.
 * - **Teardown**: when the consumer stops (early `break`, cancel, fatal error) every branch is returned, so every
 *   branch's `finally` runs, and the input is closed.
 * - **Interruptions**: the data frames waiting in the branch buffers and in the output queue are dropped.
 *
 * Branches may be processors or arrays of processors (run as one `pipeline`). An options object may come first.
 * Inside a `syncParallel` branch the element runs in lock-step (one input frame at a time) so that the enclosing
 * barrier stays exact.
 *
 * @example
 * ```ts
 * import { parallel, map, run, Frames } from 'apipeline-ts'
 *
 * const upper = map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
 * const lower = map((f) => (f.type === 'text' ? Frames.text(f.text.toLowerCase()) : f))
 * for await (const f of run(parallel(upper, lower), [Frames.text('Hi')])) console.log(Frames.format(f))
 * // StartFrame, TextFrame(HI), TextFrame(hi), EndFrame — HI and hi in the order the branches produced them
 * ```
 */
export function parallel(options: FanOutOptions, ...branches: Branch[]): Processor
export function parallel(...branches: Branch[]): Processor
export function parallel(...args: unknown[]): Processor {
  const parsed = parseFanOut('parallel', args)
  const processor: ProcessorFn = (source: AsyncIterable<Frame>, ctx?: ProcessorContext) =>
    new Junction(
      { mode: 'parallel', branches: parsed.branches, capacity: parsed.capacity, dedupeWindow: parsed.dedupeWindow, maxBuffered: parsed.maxBuffered },
      source,
      asContext(ctx, 'parallel'),
    )
  return withInfo(processor, { name: parsed.name ?? 'parallel', kind: 'parallel', branches: parsed.branches })
}
