/**
 * `run(processor, input, options)`: the functional entry point.
 * @module
 */
import { PipelineError } from '../errors.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import type { ProcessorFn } from './processor.js'
import { errorMessage } from './stage.js'
import type { Channel, InputSource } from '../internal/channel.js'
import { PipelineTask, type PipelineParams, type TaskResult } from './task.js'
import { yielded } from '../internal/yielded.js'

/** Options of {@link run}: the task parameters (start parameters, capacities, `signal`, `onUpstream`, …). */
export type RunOptions = PipelineParams

/** What {@link run} returns: the output frames, plus the task's result once the run is over. */
export interface RunHandle<O extends Frame = Frame> extends AsyncIterable<O> {
  /** Resolves (never rejects) with how the run ended, once it has been iterated to the end. */
  readonly result: Promise<TaskResult>
  /**
   * Interrupts the running pipeline, as `PipelineTask.interrupt()`: only with `allowInterruptions`, and only while the
   * run is being iterated (before the first `next()` and after the run finished it does nothing). The current
   * `ctx.signal` aborts at once and buffered stages drop their queued data and app frames; a `startInterruption` frame
   * goes ahead of the input frames already read from `input` but not yet processed. Those queued input frames are
   * kept (they come after the interruption), and output already waiting for the consumer is delivered. Returns true
   * when the interruption was made.
   */
  interrupt(): boolean
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

type AnyIterator = Iterator<Frame> | AsyncIterator<Frame>

function iteratorOf(input: Iterable<Frame> | AsyncIterable<Frame>): AnyIterator {
  const asyncFn = (input as AsyncIterable<Frame>)[Symbol.asyncIterator]
  if (typeof asyncFn === 'function') return asyncFn.call(input)
  return (input as Iterable<Frame>)[Symbol.iterator]()
}

/** Closes an input iterator, ignoring whatever its cleanup does. */
function closeInput(it: AnyIterator): void {
  if (typeof it.return !== 'function') return
  try {
    const closing: unknown = it.return()
    if (closing instanceof Promise) closing.catch(() => {})
  } catch {
    // The input's own cleanup failed; nothing more to do with it.
  }
}

/**
 * Copies `input` into the task until it ends, the task closes its input, or the task finishes. Never rejects. The
 * input is closed (`return()`) when the copy stops early, never after it ended or after its `next()` threw (the
 * iterator protocol: an iterator that threw is done).
 */
async function feed(task: PipelineTask, it: AnyIterator): Promise<void> {
  let settled = false
  // A live input parked in next() (nothing more to read yet) is closed as soon as the task ends, not at its next frame.
  void task.run().then(() => {
    if (!settled) {
      settled = true
      closeInput(it)
    }
  })
  try {
    for (;;) {
      // A task that takes no more input (cancel, stop, break, end) is never fed again, even while its stages close.
      if (!task.acceptsInput()) break
      const next: unknown = it.next()
      const step = (
        typeof (next as PromiseLike<unknown> | undefined)?.then === 'function' ? await next : next
      ) as IteratorResult<Frame>
      if (step.done === true) {
        settled = true
        task.stopWhenDone()
        return
      }
      let wait: Promise<void> | undefined
      try {
        wait = task.pushFrame(step.value)
      } catch (err) {
        throw new NotAFrame(errorMessage(err), { cause: err })
      }
      if (wait !== undefined) await wait
      if (step.value.kind === 'control' && step.value.type === 'end') break
    }
  } catch (err) {
    // The input's next() threw (it is done: it is not closed), or produced a value that is not a frame (it is closed
    // below). Either way the run ends as 'errored'.
    if (!(err instanceof NotAFrame)) settled = true
    task.handleUpstream(errorFrame(errorMessage(err), { fatal: true, processor: 'input', cause: err }))
  }
  if (!settled) {
    settled = true
    closeInput(it)
  }
}

/**
 * Reads a synchronous input on demand, in place of {@link feed}: each time the pipeline takes from the task's empty
 * input queue, one value is read from the input and handed over (no feeder, no read-ahead: a frame leaves the input
 * only when the first stage asks for it). Same outcomes as `feed`: the input's end queues `end`, an `end` in the input
 * closes it, a value that is not a frame closes it and ends the run 'errored', a `next()` that throws ends the run
 * 'errored' (the input is not closed), and an input still open when the task ends is closed ({@link close}). A
 * failure is reported on a microtask, never from inside the pipeline's pull.
 */
class OnDemandInput implements InputSource<Frame> {
  private settled = false

  constructor(
    private readonly task: PipelineTask,
    private readonly it: Iterator<Frame>,
  ) {}

  read(): Frame | undefined {
    if (this.settled) return undefined
    const task = this.task
    if (!task.acceptsInput()) {
      this.close()
      return undefined
    }
    let step: IteratorResult<Frame>
    try {
      step = this.it.next()
      if (step === null || typeof step !== 'object') throw new TypeError(`input iterator result ${String(step)} is not an object`)
    } catch (err) {
      this.settled = true
      this.fail(err)
      return undefined
    }
    if (step.done === true) {
      this.settled = true
      task.stopWhenDone()
      return undefined
    }
    let now: Frame | undefined
    try {
      now = task.inputNow(step.value)
    } catch (err) {
      this.close()
      this.fail(new NotAFrame(errorMessage(err), { cause: err }))
      return undefined
    }
    // An `end` in the input (or a cancel or stop frame): nothing after it is read.
    if (now === undefined && !task.acceptsInput()) this.close()
    return now
  }

  /** Closes the input unless it ended or failed (called once the task has finished, too). */
  close(): void {
    if (this.settled) return
    this.settled = true
    closeInput(this.it)
  }

  private fail(err: unknown): void {
    const task = this.task
    queueMicrotask(() => task.handleUpstream(errorFrame(errorMessage(err), { fatal: true, processor: 'input', cause: err })))
  }
}

/** A value of the input that is not a frame (the input itself did not fail: it is closed). */
class NotAFrame extends TypeError {}

/**
 * The consumer's iterator of a run: a thin layer over the task's output. What is queued there comes first (an
 * interruption puts its `startInterruption` there), then what the pipeline has ready, handed over without an extra
 * hop; else it waits for the pull under way. A class (not closures per run), so that the consumer's `next()` call
 * site stays monomorphic across runs.
 */
class RunIterator implements AsyncIterator<Frame> {
  private finished = false
  private readonly onRead = (r: IteratorResult<Frame, undefined>): IteratorResult<Frame> | Promise<IteratorResult<Frame>> => {
    if (r.done !== true) return r
    this.finished = true
    return this.done.then(settled)
  }

  constructor(
    private readonly task: PipelineTask,
    private readonly output: Channel<Frame>,
    private readonly done: Promise<TaskResult>,
  ) {}

  next(): Promise<IteratorResult<Frame>> {
    if (this.finished) return Promise.resolve(DONE)
    const ready = this.output.tryTake()
    if (ready !== undefined) return Promise.resolve(yielded(ready.value))
    const pulled = this.task.pullNext()
    if (pulled !== undefined) return Promise.resolve(pulled)
    return this.output.next().then(this.onRead)
  }

  return(): Promise<IteratorResult<Frame>> {
    // The consumer stopped early: cancel and resolve once every stage has been torn down (bounded by cancelTimeoutMs).
    if (!this.finished) {
      this.finished = true
      void this.task.cancel()
    }
    return this.done.then(() => DONE)
  }
}

/** The end of a run's iteration: done, or the run's fatal error. */
function settled(r: TaskResult): IteratorResult<Frame> {
  if (r.status === 'errored' && r.error !== undefined) throw new PipelineError(r.error)
  return DONE
}

/**
 * Runs `processor` over `input` and yields every frame that reaches the end. Sends `start` first (built from
 * `options`), then the input, then `end` if the input did not contain one (frames after an `end` are ignored).
 * `options.signal` cancels; `options.onUpstream` sees frames that reach the top. Breaking out of the loop cancels
 * the run and tears every stage down.
 *
 * Iteration ends normally for `'ended'`, `'stopped'` and `'cancelled'` runs and throws a {@link PipelineError} for an
 * `'errored'` one (a fatal error, or an input that threw or produced a non-frame). The handle can be iterated once.
 *
 * @example
 * ```ts
 * import { run, map, Frames } from 'apipeline-ts'
 *
 * const upper = map((f) => (f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f))
 * for await (const frame of run(upper, [Frames.text('hello')])) {
 *   console.log(Frames.format(frame)) // StartFrame#0(...), TextFrame#1(text: "HELLO"), EndFrame#0
 * }
 * ```
 */
export function run<I extends Frame = Frame, O extends Frame = Frame>(
  processor: ProcessorFn<I, O>,
  input: Iterable<I> | AsyncIterable<I>,
  options: RunOptions = {},
): RunHandle<O> {
  if (typeof processor !== 'function') throw new TypeError('run(processor): processor must be a function')
  if (input === null || (typeof input !== 'object' && typeof input !== 'function') || !(Symbol.iterator in input || Symbol.asyncIterator in input)) {
    throw new TypeError('run(input): input must be an Iterable or AsyncIterable of frames')
  }
  let resolveResult!: (r: TaskResult) => void
  const result = new Promise<TaskResult>((resolve) => {
    resolveResult = resolve
  })
  let iterated = false
  let currentTask: PipelineTask | undefined

  function start(): AsyncIterator<Frame> {
    // The task starts only once the input iterator exists: an input that cannot be iterated (a locked stream) ends the
    // run 'errored' before any stage was created.
    let inputIterator: AnyIterator
    try {
      inputIterator = iteratorOf(input as Iterable<Frame> | AsyncIterable<Frame>)
      if (inputIterator === null || typeof inputIterator !== 'object' || typeof inputIterator.next !== 'function') {
        throw new TypeError('run(input): the input iterator has no next() method')
      }
    } catch (err) {
      const frame = errorFrame(errorMessage(err), { fatal: true, processor: 'input', cause: err })
      resolveResult({ status: 'errored', error: frame, errors: [] })
      const failure = new PipelineError(frame)
      let reported = false
      return {
        next: () => {
          if (reported) return Promise.resolve(DONE)
          reported = true
          return Promise.reject(failure)
        },
        return: () => Promise.resolve(DONE),
      }
    }
    const task = new PipelineTask(processor as ProcessorFn<any, any>, options)
    currentTask = task
    // The consumer pulls the pipeline itself (no driver): frames that are ready reach it in the same call.
    const output = task.pulledFrames()
    // A synchronous input (an array, a generator) is read when the pipeline asks for a frame (set up before the task
    // runs: a driver pulls at once); an async one is fed.
    const onDemand =
      typeof (input as AsyncIterable<Frame>)[Symbol.asyncIterator] !== 'function' ? new OnDemandInput(task, inputIterator as Iterator<Frame>) : undefined
    if (onDemand !== undefined) task.readInputOnDemand(onDemand)
    const done = task.run()
    done.then(resolveResult, () => {})
    if (onDemand !== undefined) void done.then(() => onDemand.close())
    else void feed(task, inputIterator)
    return new RunIterator(task, output, done)
  }

  return {
    result,
    interrupt: () => currentTask?.interrupt() ?? false,
    [Symbol.asyncIterator]() {
      if (iterated) throw new TypeError('run(): the returned iterable can be iterated once')
      iterated = true
      return start() as AsyncIterator<O>
    },
  }
}
