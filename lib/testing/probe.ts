/**
 * A probed run of a processor, without a task: the processor is called directly with a context of its own over a
 * source that records how it is used, and its output iterator is pulled by hand (to the end, or until an early
 * break). The laws are checked on what this records.
 * @module
 */
import { Context } from '../core/context.js'
import type { ProcessorFn } from '../core/processor.js'
import { Runtime } from '../core/runtime.js'
import { errorMessage } from '../core/stage.js'
import * as F from '../frames/constructors.js'
import type { Frame, StartParams } from '../frames/types.js'

/** Timers captured when the module loads, so fake timers installed later by a test do not stall the laws. */
const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout
const realSetImmediate: ((cb: () => void) => unknown) | undefined =
  typeof globalThis.setImmediate === 'function' ? globalThis.setImmediate : undefined

/**
 * Resolves after one macrotask turn (on real timers).
 * @example
 * ```ts
 * await macrotask() // microtasks queued before have run, and so has Node's unhandled-rejection check
 * ```
 */
export function macrotask(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (realSetImmediate !== undefined) realSetImmediate(resolve)
    else realSetTimeout(resolve, 0)
  })
}

/**
 * Lets pending work of a few turns run (rejections become unhandled, teardown completes).
 * @example
 * ```ts
 * const iterator = [Frames.text('a')][Symbol.iterator]()
 * iterator.return?.()
 * await settle()
 * ```
 */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await macrotask()
}

/**
 * A source that yields given frames and records how it is consumed.
 * @example
 * ```ts
 * const source = new ProbeSource([Frames.start(), Frames.end()])
 * for await (const f of processor(source, ctx)) break
 * source.returned // true when the processor closed its source
 * ```
 */
export class ProbeSource implements AsyncIterableIterator<Frame> {
  /** Calls of `next()`. */
  pulls = 0
  /** `return()` was called. */
  returned = false
  /** `next()` has reported done (every frame was taken). */
  exhausted = false
  /** Calls of `next()` after `return()` or after done was reported. */
  pullsAfterClose = 0
  private index = 0

  constructor(private readonly frames: readonly Frame[]) {}

  next(): Promise<IteratorResult<Frame>> {
    this.pulls++
    if (this.returned || this.exhausted) {
      this.pullsAfterClose++
      return Promise.resolve({ done: true, value: undefined })
    }
    const frame = this.frames[this.index]
    if (frame === undefined) {
      this.exhausted = true
      return Promise.resolve({ done: true, value: undefined })
    }
    this.index++
    return Promise.resolve({ done: false, value: frame })
  }

  return(): Promise<IteratorResult<Frame>> {
    this.returned = true
    return Promise.resolve({ done: true, value: undefined })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** True once the consumer has let go of the source: it returned it, or took everything. */
  get released(): boolean {
    return this.returned || this.exhausted
  }
}

/** Options of {@link probeRun}. */
export interface ProbeOptions {
  /** Parameters of the `start` frame. */
  readonly start?: Partial<StartParams>
  /** Stop pulling after this many output frames and call `return()` on the output. Default: pull to the end. */
  readonly breakAfter?: number
  /** Longest wait for one step of the output (a `next()` or the `return()`), in ms. Default 2000. */
  readonly timeoutMs?: number
  /** Most output frames taken before the run counts as endless. Default 10 000. */
  readonly maxOutput?: number
}

/** What {@link probeRun} observed. */
export interface ProbeReport {
  /** The frames fed: `start`, the body, `end`. */
  readonly input: readonly Frame[]
  /** Every frame the processor produced, in order. */
  readonly output: Frame[]
  /** Frames the processor pushed upstream. */
  readonly upstream: Frame[]
  /** The output iterator reported done (before any early break). */
  completed: boolean
  /** The early break happened (output was returned after `breakAfter` frames). */
  broke: boolean
  /** A failure of the processor itself: its function, `next()` or `return()` threw or rejected. */
  failure: string | undefined
  /** A step took longer than `timeoutMs`, or the output went past `maxOutput`. */
  stuck: string | undefined
  /** The probe source. */
  readonly source: ProbeSource
  /** After the run: a `next()` on the output resolved done without pulling the source. */
  doneAfterwards: boolean
}

const TIMED_OUT = Symbol('timed out')

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = realSetTimeout(() => resolve(TIMED_OUT), ms)
  })
  return Promise.race([promise, timeout]).finally(() => realClearTimeout(timer))
}

/**
 * Runs `processor` over `start`, `body`, `end` with a fresh context, pulling its output by hand. Never rejects:
 * failures are recorded in the report. The run's runtime is cancelled at the end, as a task does.
 * @example
 * ```ts
 * const report = await probeRun(myProcessor, [Frames.text('a')], { breakAfter: 1 })
 * report.source.released // the processor let go of its source after the early break
 * ```
 */
export async function probeRun(processor: ProcessorFn<any, any>, body: readonly Frame[], options: ProbeOptions = {}): Promise<ProbeReport> {
  const timeoutMs = options.timeoutMs ?? 2000
  const maxOutput = options.maxOutput ?? 10_000
  const startFrame = F.start(options.start ?? {})
  const input = [startFrame, ...body, F.end()]
  const source = new ProbeSource(input)
  const runtime = new Runtime({ cancelTimeoutMs: timeoutMs })
  const upstream: Frame[] = []
  runtime.upstreamSink = (frame) => upstream.push(frame)
  runtime.start = startFrame
  const ctx = new Context(runtime, 'probe', (frame) => upstream.push(frame))
  const report: ProbeReport = {
    input,
    output: [],
    upstream,
    completed: false,
    broke: false,
    failure: undefined,
    stuck: undefined,
    source,
    doneAfterwards: false,
  }

  let it: AsyncIterator<Frame>
  try {
    const out = processor(source, ctx)
    if (out === null || typeof out !== 'object' || typeof (out as AsyncIterable<Frame>)[Symbol.asyncIterator] !== 'function') {
      report.failure = 'the processor did not return an AsyncIterable'
      runtime.cancel()
      return report
    }
    it = out[Symbol.asyncIterator]()
  } catch (err) {
    report.failure = `the processor threw when called: ${errorMessage(err)}`
    runtime.cancel()
    return report
  }

  try {
    const breakAfter = options.breakAfter
    for (;;) {
      if (breakAfter !== undefined && report.output.length >= breakAfter) {
        report.broke = true
        const closing = typeof it.return === 'function' ? Promise.resolve(it.return()) : Promise.resolve(undefined)
        const r = await withTimeout(closing, timeoutMs)
        if (r === TIMED_OUT) report.stuck = `return() after ${breakAfter} output frames did not settle within ${timeoutMs} ms`
        break
      }
      if (report.output.length >= maxOutput) {
        report.stuck = `the output went on past ${maxOutput} frames`
        if (typeof it.return === 'function') void Promise.resolve(it.return()).catch(() => {})
        break
      }
      const r = await withTimeout(it.next(), timeoutMs)
      if (r === TIMED_OUT) {
        report.stuck = `next() after ${report.output.length} output frames did not settle within ${timeoutMs} ms`
        if (typeof it.return === 'function') void Promise.resolve(it.return()).catch(() => {})
        break
      }
      if (r.done === true) {
        report.completed = true
        break
      }
      report.output.push(r.value)
    }
    if (report.stuck === undefined) {
      const pullsBefore = source.pulls
      const r = await withTimeout(it.next(), timeoutMs)
      report.doneAfterwards = r !== TIMED_OUT && r.done === true && source.pulls === pullsBefore
    }
  } catch (err) {
    report.failure = `the processor failed: ${errorMessage(err)}`
  } finally {
    runtime.cancel()
  }
  return report
}
