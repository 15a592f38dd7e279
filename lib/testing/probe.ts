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
  private readonly gates: Set<number>
  private gateOpen: (() => void) | undefined
  private gateWaiter: (() => void) | undefined
  /** The index of the frame a `next()` waits for at a gate (see the constructor), else undefined. */
  waitingAt: number | undefined

  /**
   * `gates`: indexes of frames held back until {@link ProbeSource.openGate} is called (a `next()` asking for one
   * waits; {@link ProbeSource.atGate} tells when one does).
   */
  constructor(
    private readonly frames: readonly Frame[],
    gates: readonly number[] = [],
  ) {
    this.gates = new Set(gates)
  }

  /** Resolves once a `next()` waits at a gate (at once when one already does). */
  atGate(): Promise<void> {
    if (this.waitingAt !== undefined) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.gateWaiter = resolve
    })
  }

  /** Lets the frame a `next()` waits for at a gate through (and every gate, once returned). */
  openGate(): void {
    if (this.waitingAt !== undefined) this.gates.delete(this.waitingAt)
    if (this.returned) this.gates.clear()
    this.waitingAt = undefined
    const open = this.gateOpen
    this.gateOpen = undefined
    open?.()
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.gates.has(this.index) && !this.returned) {
      this.waitingAt = this.index
      const waiter = this.gateWaiter
      this.gateWaiter = undefined
      waiter?.()
      return new Promise<void>((resolve) => {
        this.gateOpen = resolve
      }).then(() => this.next())
    }
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
    this.openGate()
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
  /**
   * Interrupt the run before `body[interruptAt]` (`body.length`: after the whole body): once the processor asks for
   * that frame and its output has gone quiet (everything it had to emit was taken), the run's interruption fires —
   * `ctx.signal` aborts, as in a task — and a `startInterruption` frame is read before the rest of the body. The
   * frame after it is held back too, until the output has gone quiet again (what the processor emits in reaction
   * to the interruption frame itself comes out first).
   */
  readonly interruptAt?: number
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
  /** With `interruptAt`: the `startInterruption` frame read by the processor. */
  readonly interruption: Frame | undefined
  /** With `interruptAt`: how many output and upstream frames there were when the interruption fired (else undefined). */
  interruptedAfter: { readonly output: number; readonly upstream: number } | undefined
  /**
   * With `interruptAt`: how many output and upstream frames there were when the frame after the interruption was let
   * through (else undefined): what follows is the new turn.
   */
  nextTurnAfter: { readonly output: number; readonly upstream: number } | undefined
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
  const interruptAt = options.interruptAt
  const interruption = interruptAt === undefined ? undefined : F.startInterruption()
  const input =
    interruptAt === undefined || interruption === undefined
      ? [startFrame, ...body, F.end()]
      : [startFrame, ...body.slice(0, interruptAt), interruption, ...body.slice(interruptAt), F.end()]
  // The gates hold the interruption frame and the frame after it (index 0 is `start`).
  const gate = interruptAt === undefined ? undefined : interruptAt + 1
  const source = new ProbeSource(input, gate === undefined ? [] : [gate, gate + 1])
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
    interruption,
    interruptedAfter: undefined,
    nextTurnAfter: undefined,
  }

  // The next output of `it`; at a gate, lets the held frame through once the output has gone quiet (firing the
  // interruption before the interruption frame).
  const pull = async (it: AsyncIterator<Frame>): Promise<IteratorResult<Frame>> => {
    const step = it.next()
    if (gate === undefined || report.nextTurnAfter !== undefined) return step
    let settled = false
    void step.then(
      () => (settled = true),
      () => (settled = true),
    )
    for (;;) {
      const first = await Promise.race([step.then(() => 'output' as const, () => 'output' as const), source.atGate().then(() => 'gate' as const)])
      if (first === 'output' || settled) return step
      // The processor waits for a held frame: let pending work finish, then let it through if nothing came out.
      await settle()
      if (settled) return step
      const at = source.waitingAt
      if (at === undefined) continue
      const counts = { output: report.output.length, upstream: upstream.length }
      if (at === gate) {
        report.interruptedAfter = counts
        runtime.interrupt()
      } else {
        report.nextTurnAfter = counts
      }
      source.openGate()
    }
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
      const r = await withTimeout(pull(it), timeoutMs)
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
