/** Small helpers shared by the core specs. */
import { Frames, run, type Frame, type Processor, type RunOptions, type TaskResult } from '../../lib/index.js'

/** Runs `processor` over `input` and collects the output frames, the upstream frames and the result. */
export async function collect(
  processor: Processor<any, any>,
  input: Iterable<Frame> | AsyncIterable<Frame>,
  options: RunOptions = {},
): Promise<{ out: Frame[]; up: Frame[]; result: TaskResult }> {
  const up: Frame[] = []
  const handle = run(processor, input, {
    ...options,
    onUpstream: (f) => {
      up.push(f)
      options.onUpstream?.(f)
    },
  })
  const out: Frame[] = []
  for await (const f of handle) out.push(f)
  return { out, up, result: await handle.result }
}

/** The texts of the text frames in `frames`. */
export const texts = (frames: readonly Frame[]): string[] =>
  frames.flatMap((f) => (f.kind === 'data' && f.type === 'text' ? [f.text] : []))

/** The types of `frames`. */
export const types = (frames: readonly Frame[]): string[] => frames.map((f) => f.type)

/** `n` text frames "0" … "n-1". */
export const textFrames = (n: number): Frame[] => Array.from({ length: n }, (_, i) => Frames.text(String(i)))

/** A promise that settles on the next macrotask turn. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A deferred promise. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** A promise that resolves after `ms` or rejects with the signal's reason when it aborts; cleans up its timer. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
