/** Helpers shared by the parallel / syncParallel / sequential specs. */
import { Frames, run, type Frame, type Processor, type ProcessorFn, type TaskResult } from '../../lib/index.js'

/** A short description of a frame for order assertions: the text of text frames, else the type. */
export function label(frame: Frame): string {
  return frame.type === 'text' ? (frame as { text: string }).text : frame.type
}

/** Runs `processor` over `input` and collects the output and the result. */
export async function collect(
  processor: ProcessorFn,
  input: Iterable<Frame> | AsyncIterable<Frame>,
  options: Parameters<typeof run>[2] = {},
): Promise<{ frames: Frame[]; labels: string[]; result: TaskResult }> {
  const handle = run(processor, input, options)
  const frames: Frame[] = []
  for await (const f of handle) frames.push(f)
  const result = await handle.result
  return { frames, labels: frames.map(label), result }
}

/** Texts as frames. */
export function texts(...values: string[]): Frame[] {
  return values.map((v) => Frames.text(v))
}

/** A processor mapping text frames with `fn`, passing everything else. */
export function mapText(fn: (text: string) => string, name = 'mapText'): Processor {
  const p: Processor = async function* (source) {
    for await (const f of source) yield f.type === 'text' ? Frames.text(fn((f as { text: string }).text)) : f
  }
  Object.defineProperty(p, 'name', { value: name })
  return p
}

/** Lets pending promise reactions and immediates run `n` times. */
export async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

/** A promise with its resolver. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** A processor that counts how many times its `finally` ran into `counter.finals`. */
export function tracked(counter: { finals: number }, inner: ProcessorFn): ProcessorFn {
  return async function* trackedBranch(source, ctx) {
    try {
      yield* inner(source, ctx)
    } finally {
      counter.finals++
    }
  }
}

/** Resolves when `signal` aborts (at once if it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
