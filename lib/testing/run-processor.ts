/**
 * `runProcessor(processor, framesIn, options)`: run a processor as a task over a list of frames and collect what
 * reaches either end of it.
 * @module
 */
import { isFrame } from '../frames/guards.js'
import type { Frame } from '../frames/types.js'
import { pipeline } from '../core/pipeline.js'
import { assertProcessor, type ProcessorFn } from '../core/processor.js'
import { isInterruptionReport, type InterruptionReportFrame } from '../interruption/report.js'
import { PipelineTask, type PipelineParams, type TaskResult, type TaskStatus } from '../core/task.js'
import { tap } from '../operators/tap.js'

const SLEEP = Symbol('apipeline.testing.sleep')
const INTERRUPT = Symbol('apipeline.testing.interrupt')

/** A pause in the input of {@link runProcessor}; see {@link sleep}. */
export interface SleepStep {
  readonly [SLEEP]: true
  /** Milliseconds to wait before queueing the next frame. */
  readonly ms: number
}

/**
 * A pause between two input frames of {@link runProcessor} (pipecat's `SleepFrame`): the next frame is queued `ms`
 * milliseconds later, on the clock of `setTimeout` (fake time when fake timers are on).
 *
 * @example
 * ```ts
 * await runProcessor(idleNotifier, [Frames.text('hi'), sleep(5_000), Frames.text('still there?')], { fakeTimers: vi })
 * ```
 */
export function sleep(ms: number): SleepStep {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`sleep(ms) needs a finite number >= 0, got ${String(ms)}`)
  }
  return Object.freeze({ [SLEEP]: true as const, ms })
}

/**
 * True for values made by {@link sleep}.
 * @example
 * ```ts
 * isSleep(sleep(10)) // true
 * isSleep(Frames.text('x')) // false
 * ```
 */
export function isSleep(value: unknown): value is SleepStep {
  return typeof value === 'object' && value !== null && (value as { [SLEEP]?: unknown })[SLEEP] === true
}

/** An interruption in the input of {@link runProcessor}; see {@link interrupt}. */
export interface InterruptStep {
  readonly [INTERRUPT]: true
}

/**
 * An interruption between two input frames of {@link runProcessor} (the user starts speaking): it fires once the
 * processor has read every frame before it, never earlier — so it cannot overtake queued input, and the test needs
 * no sleeps to place it. Then `task.interrupt()` runs: `ctx.signal` aborts, buffered stages drop their queued data
 * and `startInterruption` goes ahead of what is still queued. The run needs `allowInterruptions: true`.
 *
 * "Read" means taken from the input: a processor busy with the last frame before the step (streaming an answer to
 * it, say) is interrupted in the middle of that work. Put a {@link sleep} before the step to let it work a while
 * first — with fake timers (`fakeTimers: vi`, the recommended mode for interruption tests), the time is exact and
 * the test is deterministic.
 *
 * @example
 * ```ts
 * vi.useFakeTimers()
 * const { downstream } = await runProcessor(
 *   llm,
 *   [Frames.text('tell me a story'), sleep(300), interrupt(), Frames.text('stop')],
 *   { allowInterruptions: true, fakeTimers: vi },
 * )
 * ```
 */
export function interrupt(): InterruptStep {
  return INTERRUPT_STEP
}

const INTERRUPT_STEP: InterruptStep = Object.freeze({ [INTERRUPT]: true as const })

/**
 * True for values made by {@link interrupt}.
 * @example
 * ```ts
 * isInterrupt(interrupt()) // true
 * isInterrupt(Frames.interruptionTask()) // false: a frame, which would overtake queued input
 * ```
 */
export function isInterrupt(value: unknown): value is InterruptStep {
  return typeof value === 'object' && value !== null && (value as { [INTERRUPT]?: unknown })[INTERRUPT] === true
}

/** One input item of {@link runProcessor}: a frame, a pause or an interruption. */
export type TestInput = Frame | SleepStep | InterruptStep

/**
 * Something that advances fake time: vitest's `vi` (uses `advanceTimersByTimeAsync`), a `@sinonjs/fake-timers` clock
 * (uses `tickAsync`), or a function `(ms) => Promise`.
 */
export type FakeClock =
  | { advanceTimersByTimeAsync(ms: number): unknown }
  | { tickAsync(ms: number): unknown }
  | ((ms: number) => unknown)

/** Options of {@link runProcessor}: the task parameters (start parameters, capacities, …) plus how the test runs. */
export interface RunProcessorOptions extends PipelineParams {
  /** Queue `end` after the input. Default true. When false, the processor or the input must end the run (or the timeout does). */
  readonly sendEnd?: boolean
  /**
   * Fake timers in use: while the run is in progress, time is advanced by `tickMs` steps until it finishes. Pass
   * `vi` after `vi.useFakeTimers()`, a fake-timers clock, or an advance function. Without it, real time is used.
   */
  readonly fakeTimers?: FakeClock
  /** Fake milliseconds advanced per step with `fakeTimers`. Default 10. */
  readonly tickMs?: number
  /**
   * After this many milliseconds (fake ones with `fakeTimers`) the run is cancelled and `timedOut` is true.
   * Default 5000.
   */
  readonly timeoutMs?: number
}

/** What {@link runProcessor} resolves with. */
export interface RunProcessorResult {
  /** Every frame that reached the end of the processor, `start` first and (for an ended run) `end` last. */
  readonly downstream: Frame[]
  /** Every frame that reached the top of the processor (error frames, frames pushed with `ctx.pushUpstream`). */
  readonly upstream: Frame[]
  /**
   * The task's interruption reports (what the sink received and what was dropped, one per interrupted turn): the task
   * sends them, not the processor, so they are kept apart from `upstream`.
   */
  readonly interruptionReports: InterruptionReportFrame[]
  /** How the run ended. */
  readonly status: TaskStatus
  /** The task's full result (the fatal error, the non-fatal errors). */
  readonly result: TaskResult
  /** True when the run was cancelled because it took longer than `timeoutMs`. */
  readonly timedOut: boolean
}

function advancer(clock: FakeClock): (ms: number) => Promise<unknown> {
  if (typeof clock === 'function') return async (ms) => clock(ms)
  if (clock !== null && typeof clock === 'object') {
    const c = clock as { advanceTimersByTimeAsync?: unknown; tickAsync?: unknown }
    if (typeof c.advanceTimersByTimeAsync === 'function') {
      const fn = c.advanceTimersByTimeAsync as (ms: number) => unknown
      return async (ms) => fn.call(clock, ms)
    }
    if (typeof c.tickAsync === 'function') {
      const fn = c.tickAsync as (ms: number) => unknown
      return async (ms) => fn.call(clock, ms)
    }
  }
  throw new TypeError(
    'runProcessor({ fakeTimers }) must be vitest `vi`, a fake-timers clock (tickAsync) or a function (ms) => Promise',
  )
}

function positive(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${where} must be a finite number > 0, got ${String(value)}`)
  }
  return value
}

function inputList(framesIn: unknown): TestInput[] {
  if (framesIn === null || typeof framesIn !== 'object' || !(Symbol.iterator in framesIn)) {
    throw new TypeError('runProcessor(processor, framesIn): framesIn must be an iterable of frames, sleep() and interrupt() steps')
  }
  const items = [...(framesIn as Iterable<unknown>)]
  items.forEach((item, i) => {
    if (!isFrame(item) && !isSleep(item) && !isInterrupt(item)) {
      throw new TypeError(`runProcessor(framesIn)[${i}] is neither a frame nor a sleep() or interrupt() step`)
    }
  })
  return items as TestInput[]
}

/** True for an input frame that the task puts into its input queue (the others it drops or acts on at once). */
function entersInput(frame: Frame): boolean {
  if (frame.kind === 'control') return frame.type !== 'start'
  if (frame.kind === 'system') return frame.type !== 'cancel' && frame.type !== 'stopTask' && frame.type !== 'interruptionTask'
  return true
}

/**
 * Runs `processor` as a {@link PipelineTask} (the equivalent of pipecat's `run_test`): sends `start` (built from
 * `options`), then `framesIn` in order (waiting at each {@link sleep} step, interrupting at each {@link interrupt}
 * step once the frames before it were read), then `end` unless `sendEnd` is false, and collects the frames that
 * reach the end (`downstream`) and the top (`upstream`) of the processor. Never rejects for a failing processor:
 * look at `status` (`'errored'` with `result.error` for a fatal error).
 *
 * Time: with `fakeTimers` (recommended for anything with timers, and the default choice for interruption tests),
 * fake time advances in `tickMs` steps while the run is in progress, so sleeps, timeouts and interruptions land at
 * exact fake times and the test neither waits nor flakes; without it, real time is used.
 *
 * Frames in `framesIn` follow the task's rules: a `start` is dropped (the task sends its own), frames after an
 * `end` are dropped, `cancel` and `stopTask` end the run, system frames overtake frames still queued.
 *
 * @example
 * ```ts
 * import { Frames, map } from 'apipeline-ts'
 * import { runProcessor, normalizeFrame, sleep } from 'apipeline-ts/testing'
 *
 * const upper = map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
 * const { downstream, upstream, status } = await runProcessor(upper, [Frames.text('hi')])
 * status // 'ended'
 * downstream.map((f) => f.type) // ['start', 'text', 'end']
 * upstream // []
 *
 * // With vitest fake timers: time advances while the run is in progress.
 * vi.useFakeTimers()
 * await runProcessor(idleProcessor, [Frames.text('hi'), sleep(10_000)], { fakeTimers: vi })
 * ```
 */
export async function runProcessor(
  processor: ProcessorFn<any, any>,
  framesIn: Iterable<TestInput>,
  options: RunProcessorOptions = {},
): Promise<RunProcessorResult> {
  assertProcessor('runProcessor(processor)', processor)
  if (options === null || typeof options !== 'object') throw new TypeError('runProcessor(options) must be an object')
  const items = inputList(framesIn)
  const { sendEnd, fakeTimers, tickMs, timeoutMs, onUpstream, ...params } = options
  const advance = fakeTimers === undefined ? undefined : advancer(fakeTimers)
  const tick = positive('runProcessor({ tickMs })', tickMs, 10)
  const limit = positive('runProcessor({ timeoutMs })', timeoutMs, 5000)
  const interrupts = items.some(isInterrupt)
  if (interrupts && params.allowInterruptions !== true) {
    throw new TypeError('runProcessor: an interrupt() step needs the option allowInterruptions: true')
  }

  // With interrupt() steps, a pass-through first stage notes which input frames the processor has read. It is a
  // fused per-frame step, named so that it never takes the processor's name; without such steps, nothing is added.
  const unread = new Map<Frame, number>()
  let onRead: (() => void) | undefined
  const observed = interrupts
    ? pipeline(
        tap((frame) => {
          const n = unread.get(frame)
          if (n === undefined) return
          if (n > 1) unread.set(frame, n - 1)
          else {
            unread.delete(frame)
            if (unread.size === 0) onRead?.()
          }
        }, 'runProcessor.input'),
        processor,
      )
    : processor

  const downstream: Frame[] = []
  const upstream: Frame[] = []
  const interruptionReports: InterruptionReportFrame[] = []
  const task = new PipelineTask(observed, {
    ...params,
    onUpstream: (frame) => {
      if (isInterruptionReport(frame)) interruptionReports.push(frame)
      else upstream.push(frame)
      onUpstream?.(frame)
    },
  })
  const output = task.frames()
  const done = task.run()
  let finished = false
  let timedOut = false
  const timeout = (): void => {
    if (finished || timedOut) return
    timedOut = true
    void task.cancel()
  }

  // A pause ends early once the task is over, and leaves no timer behind.
  const pause = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      void done.then(() => {
        clearTimeout(timer)
        resolve()
      })
    })

  // Resolves once the processor has read every frame queued so far (or the task is over).
  const allRead = (): Promise<void> =>
    unread.size === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          onRead = resolve
          void done.then(() => resolve())
        }).finally(() => {
          onRead = undefined
        })

  const feed = async (): Promise<void> => {
    for (const item of items) {
      if (task.hasFinished()) return
      if (isSleep(item)) await pause(item.ms)
      else if (isInterrupt(item)) {
        await allRead()
        if (!task.hasFinished()) task.interrupt()
      } else {
        if (interrupts && entersInput(item)) unread.set(item, (unread.get(item) ?? 0) + 1)
        await task.queueFrame(item)
      }
    }
    if (sendEnd !== false && !task.hasFinished()) task.stopWhenDone()
  }

  const collect = async (): Promise<void> => {
    for await (const frame of output) downstream.push(frame)
  }

  const work = Promise.all([done, feed(), collect()]).finally(() => {
    finished = true
  })

  if (advance === undefined) {
    const timer = setTimeout(timeout, limit)
    try {
      await work
    } finally {
      clearTimeout(timer)
    }
  } else {
    let elapsed = 0
    // `work` settles between steps; its rejection (not expected: every part is guarded) is surfaced below.
    work.catch(() => {})
    while (!finished) {
      await advance(tick)
      elapsed += tick
      if (elapsed >= limit) timeout()
    }
    await work
  }
  const result = await done
  return { downstream, upstream, interruptionReports, status: result.status, result, timedOut }
}
