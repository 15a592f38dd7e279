/**
 * `toArray(array)`: append frames to an array.
 * @module
 */
import type { Processor } from '../core/processor.js'
import type { Frame } from '../frames/types.js'
import { stepProcessor } from '../operators/step-processor.js'
import { parseSinkOptions, type SinkOptions } from './sink-options.js'

/**
 * An output stage that appends the selected frames (default: data frames) to `array` as they arrive. Delivered frames
 * are consumed unless `forward: true`; other frames pass. Synchronous, so it is fused with neighbouring per-frame
 * stages. Pass `select: () => true, forward: true` to record everything that passes.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass (appended first if `select` picks it) | pass, not appended |
 * | control | pass (appended first if `select` picks it) | pass, not appended |
 * | data | appended, consumed (`forward: true`: then forwarded) | pass, not appended |
 * | app | pass (appended if `select` picks it) | pass, not appended |
 *
 * @example
 * ```ts
 * import { toArray, pipeline, run, Frames, type Frame } from 'apipeline-ts'
 *
 * const said: Frame[] = []
 * for await (const _ of run(pipeline(bot, toArray(said)), [Frames.text('hi')])) {}
 * console.log(said.map((f) => Frames.format(f)))
 * ```
 */
export function toArray<F extends Frame = Frame>(array: F[], options: SinkOptions = {}): Processor {
  if (!Array.isArray(array)) throw new TypeError('toArray(array): array must be an array')
  const { select, forward } = parseSinkOptions('toArray', options)
  return stepProcessor(options.name ?? 'toArray', (frame, emit) => {
    if (select(frame) === true) {
      array.push(frame as F)
      if (!forward) return
    }
    emit(frame)
  })
}
