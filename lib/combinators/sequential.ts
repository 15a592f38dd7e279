/**
 * `sequential(...pipelines)`: the outputs of several pipelines over the same input, concatenated in order.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { Junction } from './junction.js'
import { parseFanOut, type Branch, type SequentialOptions } from './options.js'

/**
 * The seed's SequentialMergePipeline: every pipeline runs over the same input (teed as in `parallel`), and the output
 * is all of pipeline 1's output, then all of pipeline 2's, and so on.
 *
 * - Pipeline *i*'s output is emitted as it is produced while pipeline *i* is the current one; later pipelines run
 *   concurrently and their output is held until every earlier pipeline has ended (yielded `end`/`cancel` or
 *   finished), then released in order.
 * - Lifecycle frames are joined once: `start` first (when every pipeline has passed it), `end` last (when every
 *   pipeline has passed it).
 * - Data, control and app frames are concatenated without de-duplication: a frame object that passes unchanged
 *   through two pipelines appears in both sections. System frames (errors, metrics, interruptions) are out of band:
 *   emitted as soon as they are yielded, once per id.
 * - **Memory**: input buffers are bounded (`capacity` per pipeline) but the held output of later pipelines grows
 *   with the length of the input while the first pipeline runs; it is capped by `maxBuffered` (default 10000 frames),
 *   beyond which the element fails with a `FatalError` (the run ends `'errored'`) rather than grow without bound.
 *   Use it for finite inputs (a document, an utterance), not for unbounded live streams.
 * - Upstream frames, errors, teardown and interruptions behave as in `parallel`.
 *
 * @example
 * ```ts
 * import { sequential, map, filter, run, Frames } from 'apipeline-ts'
 *
 * const titles = map((f) => (f.type === 'text' ? Frames.text(`# ${f.text}`) : f))
 * const bodies = map((f) => (f.type === 'text' ? Frames.text(f.text.toLowerCase()) : f))
 * for await (const f of run(sequential(titles, bodies), [Frames.text('One'), Frames.text('Two')])) {
 *   console.log(Frames.format(f)) // start, # One, # Two, one, two, end
 * }
 * ```
 */
export function sequential(options: SequentialOptions, ...pipelines: Branch[]): Processor
export function sequential(...pipelines: Branch[]): Processor
export function sequential(...args: unknown[]): Processor {
  const parsed = parseFanOut('sequential', args)
  const processor: ProcessorFn = (source: AsyncIterable<Frame>, ctx?: ProcessorContext) =>
    new Junction(
      { mode: 'sequential', branches: parsed.branches, capacity: parsed.capacity, dedupeWindow: parsed.dedupeWindow, maxBuffered: parsed.maxBuffered },
      source,
      asContext(ctx, 'sequential'),
    )
  return withInfo(processor, { name: parsed.name ?? 'sequential', kind: 'sequential', branches: parsed.branches })
}
