/**
 * Helpers shared by the processor and adapter specs: drive a processor end to end with `run()` and observe both
 * directions.
 */
import type { ProcessorFn } from '../../lib/core/processor.js'
import { run, type RunOptions } from '../../lib/core/run.js'
import type { TaskResult } from '../../lib/core/task.js'
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'

export interface Collected {
  /** Frames that reached the end of the pipeline. */
  readonly out: Frame[]
  /** Frames that reached the top (upstream). */
  readonly ups: Frame[]
  readonly result: TaskResult
}

/** Runs `processor` over `input` and collects both directions. */
export async function collect(
  processor: ProcessorFn<any, any>,
  input: Iterable<Frame> | AsyncIterable<Frame>,
  options: RunOptions = {},
): Promise<Collected> {
  const ups: Frame[] = []
  const handle = run(processor, input, {
    ...options,
    onUpstream: (f) => {
      ups.push(f)
      options.onUpstream?.(f)
    },
  })
  const out: Frame[] = []
  for await (const f of handle) out.push(f)
  return { out, ups, result: await handle.result }
}

/** A stage that, when `start` reaches it, sends `frames()` upstream (in order), then forwards everything. */
export function pushUpOnStart(frames: () => Frame[]): ProcessorFn {
  return async function* pushUp(source, ctx) {
    for await (const f of source) {
      yield f
      if (f.type === 'start') for (const g of frames()) ctx.pushUpstream(g)
    }
  }
}

/** The `type` of each frame. */
export const types = (frames: readonly Frame[]): string[] => frames.map((f) => f.type)

/** The text of each text frame. */
export const texts = (frames: readonly Frame[]): string[] =>
  frames.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))

/** One frame of every kind that does not end or stop a run, for the reaction tables. */
export function sampleFrames(): { system: Frame; control: Frame; data: Frame; app: Frame } {
  return {
    system: Frames.metrics({ ttfb: [{ processor: 'x', value: 1 }] }),
    control: Frames.syncNotify(),
    data: Frames.text('payload'),
    app: Frames.app('note', { n: 1 }),
  }
}

/** Frames leaving upstream that the task itself did not create (drops nothing; errors are listed separately). */
export const nonErrors = (frames: readonly Frame[]): Frame[] => frames.filter((f) => f.type !== 'error')
