/** Small helpers shared by the core specs. */
import { Frames, PipelineTask, run, type Frame, type PipelineParams, type ProcessorFn, type RunOptions, type TaskResult } from '../../lib/index.js'

/** Runs `processor` over `input` and collects the output frames, the upstream frames and the result. */
export async function collect(
  processor: ProcessorFn<any, any>,
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

/** Starts a task with a reader attached to its output; `finish()` waits for the result and the reader. */
export function startTask(
  processor: ProcessorFn<any, any>,
  params: PipelineParams = {},
): { task: PipelineTask; out: Frame[]; finish: () => Promise<TaskResult> } {
  const task = new PipelineTask(processor, params)
  const out: Frame[] = []
  const output = task.frames()
  const reading = (async () => {
    for await (const f of output) out.push(f)
  })()
  const running = task.run()
  return {
    task,
    out,
    finish: async () => {
      const result = await running
      await reading
      return result
    },
  }
}
