/**
 * `pipeline(...stages)`: serial composition. A pipeline is itself a processor, so pipelines nest anywhere.
 * @module
 */
import { pipe } from 'it-pipe'
import type { Frame } from '../frames/types.js'
import type { Context } from './context.js'
import { fuseSteps, type FusedStep } from './fuse.js'
import { assertProcessor, processorInfo, processorName, withInfo, type Processor, type ProcessorFn } from './processor.js'
import { Stage } from './stage.js'

/** Nested pipelines are flattened into their parent: same behaviour, fewer hops, more fusion. */
function flatten(stages: readonly ProcessorFn<any, any>[]): ProcessorFn<any, any>[] {
  const flat: ProcessorFn<any, any>[] = []
  for (const stage of stages) {
    const inner = processorInfo(stage)?.stages
    if (inner !== undefined && processorInfo(stage)?.name === undefined) flat.push(...flatten(inner))
    else flat.push(stage)
  }
  return flat
}

/** Runs `stages` in order over `source` with contexts under `parent`; returns the output iterator. */
function runStages(stages: readonly ProcessorFn<any, any>[], source: AsyncIterable<Frame>, parent: Context): AsyncIterable<Frame> {
  const n = stages.length
  const ctxs: Context[] = new Array<Context>(n)
  const deliverUp = (i: number, frame: Frame, exit: (frame: Frame) => void): void => {
    if (i < 0) exit(frame)
    else (ctxs[i] as Context).deliverUpstream(frame, (f) => deliverUp(i - 1, f, exit))
  }
  const toParent = (frame: Frame): void => parent.pushUpstream(frame)
  const used = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    let base = processorName(stages[i] as ProcessorFn<any, any>, `stage${i}`)
    const seen = used.get(base) ?? 0
    used.set(base, seen + 1)
    if (seen > 0) base = `${base}#${seen}`
    ctxs[i] = parent.child(`${parent.name}/${base}`, (frame) => deliverUp(i - 1, frame, toParent))
    if (processorInfo(stages[i] as ProcessorFn<any, any>)?.metrics === true) parent.runtime.registerMetrics((ctxs[i] as Context).name)
  }
  // Frames pushed upstream by whatever follows this pipeline travel through its stages, then on.
  parent.onUpstream((frame, next) => deliverUp(n - 1, frame, next))

  const transforms: ((src: AsyncIterable<Frame>) => AsyncIterable<Frame>)[] = []
  let i = 0
  while (i < n) {
    const step = processorInfo(stages[i] as ProcessorFn<any, any>)?.step
    if (step !== undefined) {
      const group: FusedStep[] = []
      const firstCtx = ctxs[i] as Context
      while (i < n) {
        const s = processorInfo(stages[i] as ProcessorFn<any, any>)?.step
        if (s === undefined) break
        group.push({ step: s, ctx: ctxs[i] as Context })
        i++
      }
      const fused = fuseSteps(group)
      transforms.push((src) => new Stage(fused, src[Symbol.asyncIterator](), firstCtx))
    } else {
      const processor = stages[i] as ProcessorFn<any, any>
      const ctx = ctxs[i] as Context
      transforms.push((src) => new Stage(processor, src[Symbol.asyncIterator](), ctx))
      i++
    }
  }
  if (transforms.length === 0) return source
  return (pipe as (...fns: unknown[]) => AsyncIterable<Frame>)(source, ...transforms)
}

/**
 * Serial composition: each stage consumes the output of the one before. The result is a processor, so it nests
 * inside other pipelines, `parallel` branches and tasks. Consecutive per-frame operators (`map`, `filter`, `tap`,
 * `flatMap`) are fused into one async hop.
 *
 * Each stage runs guarded: an exception becomes an upstream `error` frame naming the stage (`<pipeline>/<stage>`)
 * and the stage goes on with the rest of its input; see `Stage`.
 *
 * @example
 * ```ts
 * import { pipeline, map, run, Frames } from 'apipeline-ts'
 *
 * const shout = pipeline(
 *   map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f)),
 *   async function* exclaim(source) {
 *     for await (const f of source) yield f.type === 'text' ? Frames.text(`${f.text}!`) : f
 *   },
 * )
 * for await (const f of run(shout, [Frames.text('hi')])) console.log(Frames.format(f))
 * ```
 */
export function pipeline(): Processor
export function pipeline<A extends Frame, B extends Frame>(p1: ProcessorFn<A, B>): Processor<A, B>
export function pipeline<A extends Frame, B extends Frame, C extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
): Processor<A, C>
export function pipeline<A extends Frame, B extends Frame, C extends Frame, D extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
  p3: ProcessorFn<C, D>,
): Processor<A, D>
export function pipeline<A extends Frame, B extends Frame, C extends Frame, D extends Frame, E extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
  p3: ProcessorFn<C, D>,
  p4: ProcessorFn<D, E>,
): Processor<A, E>
export function pipeline<A extends Frame, B extends Frame, C extends Frame, D extends Frame, E extends Frame, F extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
  p3: ProcessorFn<C, D>,
  p4: ProcessorFn<D, E>,
  p5: ProcessorFn<E, F>,
): Processor<A, F>
export function pipeline<A extends Frame, B extends Frame, C extends Frame, D extends Frame, E extends Frame, F extends Frame, G extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
  p3: ProcessorFn<C, D>,
  p4: ProcessorFn<D, E>,
  p5: ProcessorFn<E, F>,
  p6: ProcessorFn<F, G>,
): Processor<A, G>
export function pipeline<A extends Frame, B extends Frame, C extends Frame, D extends Frame, E extends Frame, F extends Frame, G extends Frame, H extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
  p3: ProcessorFn<C, D>,
  p4: ProcessorFn<D, E>,
  p5: ProcessorFn<E, F>,
  p6: ProcessorFn<F, G>,
  p7: ProcessorFn<G, H>,
): Processor<A, H>
export function pipeline<A extends Frame, B extends Frame, C extends Frame, D extends Frame, E extends Frame, F extends Frame, G extends Frame, H extends Frame, I extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
  p3: ProcessorFn<C, D>,
  p4: ProcessorFn<D, E>,
  p5: ProcessorFn<E, F>,
  p6: ProcessorFn<F, G>,
  p7: ProcessorFn<G, H>,
  p8: ProcessorFn<H, I>,
): Processor<A, I>
export function pipeline<A extends Frame, B extends Frame, C extends Frame, D extends Frame, E extends Frame, F extends Frame, G extends Frame, H extends Frame, I extends Frame, J extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
  p3: ProcessorFn<C, D>,
  p4: ProcessorFn<D, E>,
  p5: ProcessorFn<E, F>,
  p6: ProcessorFn<F, G>,
  p7: ProcessorFn<G, H>,
  p8: ProcessorFn<H, I>,
  p9: ProcessorFn<I, J>,
): Processor<A, J>
export function pipeline<A extends Frame, B extends Frame, C extends Frame, D extends Frame, E extends Frame, F extends Frame, G extends Frame, H extends Frame, I extends Frame, J extends Frame, K extends Frame>(
  p1: ProcessorFn<A, B>,
  p2: ProcessorFn<B, C>,
  p3: ProcessorFn<C, D>,
  p4: ProcessorFn<D, E>,
  p5: ProcessorFn<E, F>,
  p6: ProcessorFn<F, G>,
  p7: ProcessorFn<G, H>,
  p8: ProcessorFn<H, I>,
  p9: ProcessorFn<I, J>,
  p10: ProcessorFn<J, K>,
): Processor<A, K>
export function pipeline<F extends Frame>(...stages: ProcessorFn<F, F>[]): Processor<F, F>
export function pipeline(...stages: ProcessorFn<any, any>[]): Processor<any, any> {
  stages.forEach((stage, i) => assertProcessor(`pipeline() stage ${i}`, stage))
  const flat = flatten(stages)
  const composed: ProcessorFn = (source, ctx) => runStages(flat, source, ctx as Context)
  return withInfo(composed, { stages: flat })
}
