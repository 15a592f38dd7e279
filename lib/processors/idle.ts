/**
 * `idle(options)`: calls a callback when no frame (or no frame of the given types) has passed for a while.
 *
 * Every frame is forwarded at once, unchanged and in order (the processor has no queue). The timer:
 *
 * | event | effect |
 * |---|---|
 * | `start` passes | the timer is armed (nothing fires before `start`) |
 * | a frame passes that matches `types` (default: every frame) | the timer is re-armed |
 * | the timer expires | `onIdle(ctx)` is called; frames it returns are emitted downstream; the timer is re-armed once it has settled (it fires again after each further `timeoutMs` of silence) |
 * | `end` passes | the timer is cleared; a callback still running is awaited and its frames go out before `end` |
 * | `cancel` / `stopTask` passes, the run is cancelled, or the consumer stops reading | the timer is cleared at once; frames of a running callback are dropped |
 *
 * A callback that throws (or rejects) is reported as an `error` frame sent upstream, naming the processor
 * (fatal when the error is a `FatalError`); the processor goes on.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import { isFatal } from '../errors.js'
import { error as errorFrame } from '../frames/constructors.js'
import { isFrame } from '../frames/guards.js'
import type { Frame } from '../frames/types.js'
import { closeQuietly } from '../internal/close.js'
import { Wake } from '../internal/wake.js'
import { yielded } from '../internal/yielded.js'

/** What an idle callback may return: nothing, a frame, or frames to emit downstream. */
export type IdleResult = void | undefined | Frame | readonly Frame[]

/** Called when the processor has been idle for `timeoutMs`. */
export type IdleCallback = (ctx: ProcessorContext) => IdleResult | PromiseLike<IdleResult>

/** Options of {@link idle}. */
export interface IdleOptions {
  /** Milliseconds without a (matching) frame before `onIdle` is called; a finite number > 0. */
  readonly timeoutMs: number
  /** Called on every expiry. */
  readonly onIdle: IdleCallback
  /** Frames that count as activity: a list of frame `type`s or a predicate. Default: every frame. */
  readonly types?: readonly string[] | ((frame: Frame) => boolean)
  /** Display name. Default `idle`. */
  readonly name?: string
}

/** How an idle watcher treats a frame: re-arm the timer, pause it (until `resume`), resume it, or ignore. */
export type IdleEvent = 'activity' | 'pause' | 'resume' | 'none'

/**
 * Activity that does not pass the watcher as a frame (e.g. output delivered by a sink further down): subscribes
 * `poke` (which re-arms the timer, unless paused) for the watcher's run; returns the function that unsubscribes.
 */
export type ExternalActivity = (ctx: ProcessorContext, poke: () => void) => () => void

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
const noop = (): void => {}

function isThenable(value: unknown): value is PromiseLike<IdleResult> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'
}

/**
 * Validates the options shared by `idle` and `userIdle` (a `TypeError` for bad ones); returns them with the activity
 * predicate (`undefined` = the processor's default).
 * @example
 * ```ts
 * const { timeoutMs, matches } = checkIdleOptions('idle(options)', { timeoutMs: 500, onIdle: () => {}, types: ['text'] })
 * ```
 */
export function checkIdleOptions(
  where: string,
  options: unknown,
): { timeoutMs: number; onIdle: IdleCallback; matches: ((frame: Frame) => boolean) | undefined; name: string | undefined } {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object`)
  const o = options as Partial<IdleOptions>
  if (typeof o.timeoutMs !== 'number' || !Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0) {
    throw new TypeError(`${where}: timeoutMs must be a finite number > 0, got ${String(o.timeoutMs)}`)
  }
  if (typeof o.onIdle !== 'function') throw new TypeError(`${where}: onIdle must be a function`)
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) {
    throw new TypeError(`${where}: name must be a non-empty string`)
  }
  let matches: ((frame: Frame) => boolean) | undefined
  const types = o.types
  if (typeof types === 'function') matches = types
  else if (Array.isArray(types)) {
    if (!types.every((t) => typeof t === 'string')) throw new TypeError(`${where}: types must be frame type strings`)
    const set = new Set<string>(types)
    matches = (frame) => set.has(frame.type)
  } else if (types !== undefined) throw new TypeError(`${where}: types must be an array of frame types or a predicate`)
  return { timeoutMs: o.timeoutMs, onIdle: o.onIdle, matches, name: o.name }
}

/** The running watcher: forwards frames, keeps the timer, emits callback frames. */
class IdleIterator implements AsyncIterableIterator<Frame> {
  private readonly it: AsyncIterator<Frame>
  private pending: Promise<IteratorResult<Frame>> | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private active = false
  private started = false
  private paused = false
  private halted = false
  private finished = false
  private running: Promise<void> | undefined
  private readonly outbox: Frame[] = []
  private readonly wake = new Wake()
  private offCancel: (() => void) | undefined
  private offExternal: (() => void) | undefined
  private readonly fire = (): void => this.onTimer()

  constructor(
    source: AsyncIterable<Frame>,
    private readonly ctx: ProcessorContext,
    private readonly timeoutMs: number,
    private readonly onIdle: IdleCallback,
    private readonly classify: (frame: Frame) => IdleEvent,
    external?: ExternalActivity,
  ) {
    this.it = source[Symbol.asyncIterator]()
    if (external !== undefined) this.offExternal = external(ctx, () => this.arm())
    // One entry in the run's cancel listeners (not one listener per stage on the signal).
    this.offCancel = ctx.runtime.onCancel(() => {
      this.halt()
      this.wake.notify()
    })
  }

  async next(): Promise<IteratorResult<Frame>> {
    for (;;) {
      const queued = this.outbox.shift()
      if (queued !== undefined) return yielded(queued)
      if (this.finished) return DONE
      if (this.pending === undefined) {
        const p = this.it.next()
        p.catch(noop)
        this.pending = p
      }
      const got = await Promise.race([this.pending, this.wake.wait()])
      if (typeof got === 'symbol') continue
      this.pending = undefined
      if (this.finished) return DONE
      if (got.done === true) {
        // The input is over: let a running callback deliver, then end.
        this.stopTimer()
        if (this.running !== undefined) await this.running
        const rest = this.outbox.shift()
        if (rest !== undefined) {
          this.pending = Promise.resolve(got)
          return yielded(rest)
        }
        this.finish()
        return DONE
      }
      const frame = got.value
      if (frame.kind === 'control' && frame.type === 'start') {
        if (!this.started) {
          this.started = true
          this.active = true
          this.arm()
        }
      } else if (frame.kind === 'control' && frame.type === 'end') {
        // `end` drains: a running callback's frames go out before it.
        this.stopTimer()
        if (this.running !== undefined) await this.running
        if (this.outbox.length > 0) {
          this.outbox.push(frame)
          continue
        }
      } else if (frame.kind === 'system' && (frame.type === 'cancel' || frame.type === 'stopTask')) {
        this.halt()
      } else {
        switch (this.classify(frame)) {
          case 'activity':
            this.arm()
            break
          case 'pause':
            this.paused = true
            this.disarm()
            break
          case 'resume':
            this.paused = false
            this.arm()
            break
          default:
            break
        }
      }
      return got
    }
  }

  return(): Promise<IteratorResult<Frame>> {
    if (!this.finished) {
      this.finish()
      this.wake.notify()
      void closeQuietly(this.it)
    }
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }


  private disarm(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  private arm(): void {
    this.disarm()
    if (this.active && !this.paused && this.running === undefined) this.timer = setTimeout(this.fire, this.timeoutMs)
  }

  /** No more callbacks (end of input); a running callback may still deliver. */
  private stopTimer(): void {
    this.active = false
    this.disarm()
  }

  /** No more callbacks and no more callback frames (cancel). */
  private halt(): void {
    this.halted = true
    this.stopTimer()
  }

  private finish(): void {
    this.finished = true
    this.halt()
    this.offExternal?.()
    this.offExternal = undefined
    this.offCancel?.()
    this.offCancel = undefined
  }

  private report(err: unknown): void {
    const message = err instanceof Error ? err : String(err)
    this.ctx.pushUpstream(errorFrame(message, { fatal: isFatal(err), processor: this.ctx.name, cause: err }))
  }

  private accept(result: IdleResult): void {
    if (result === undefined || this.halted) return
    const frames = Array.isArray(result) ? (result as readonly unknown[]) : [result]
    for (const f of frames) {
      if (isFrame(f)) this.outbox.push(f)
      else this.report(new TypeError(`${this.ctx.name}: onIdle returned something that is not a frame`))
    }
  }

  private onTimer(): void {
    this.timer = undefined
    if (!this.active || this.paused || this.halted) return
    let result: IdleResult | PromiseLike<IdleResult>
    try {
      result = this.onIdle(this.ctx)
    } catch (err) {
      this.report(err)
      this.arm()
      return
    }
    if (!isThenable(result)) {
      this.accept(result)
      this.arm()
      this.wake.notify()
      return
    }
    this.running = Promise.resolve(result).then(
      (r) => {
        this.running = undefined
        this.accept(r)
        this.arm()
        this.wake.notify()
      },
      (err: unknown) => {
        this.running = undefined
        if (!this.halted) this.report(err)
        this.arm()
        this.wake.notify()
      },
    )
  }
}

/**
 * An idle watcher processor (the engine of `idle` and `userIdle`): `classify` decides how each frame other than
 * `start`, `end`, `cancel` and `stopTask` affects the timer.
 * @example
 * ```ts
 * // Fires after 2 s without text, never while an app frame 'busy' … 'idle' pair is open.
 * const watch = idleWatcher('watch', 2000, () => Frames.text('hello?'), (f) =>
 *   f.kind === 'app' ? (f.type === 'busy' ? 'pause' : 'resume') : f.kind === 'data' ? 'activity' : 'none')
 * ```
 */
export function idleWatcher(
  name: string,
  timeoutMs: number,
  onIdle: IdleCallback,
  classify: (frame: Frame) => IdleEvent,
  external?: ExternalActivity,
): Processor {
  const processor: ProcessorFn = (source, ctx) => new IdleIterator(source, asContext(ctx, name), timeoutMs, onIdle, classify, external)
  return withInfo(processor, { name })
}

/**
 * A processor that forwards every frame and calls `onIdle(ctx)` when no frame (or no frame of `types`) has passed
 * for `timeoutMs` since `start` or the last such frame; again after each further `timeoutMs` of silence. Frames the
 * callback returns are emitted downstream. Timers are cleared on `end`, `cancel`, `stopTask` and teardown.
 *
 * @example
 * ```ts
 * import { idle, pipeline, Frames } from 'apipeline-ts'
 *
 * // Tell the user we are still here when no audio has come for 5 s.
 * const watch = idle({ timeoutMs: 5000, types: ['audioRaw'], onIdle: () => Frames.text('Still there?') })
 * const bot = pipeline(stt, watch, llm, tts)
 * ```
 */
export function idle(options: IdleOptions): Processor {
  const { timeoutMs, onIdle, matches, name } = checkIdleOptions('idle(options)', options)
  const classify = matches === undefined ? (): IdleEvent => 'activity' : (frame: Frame): IdleEvent => (matches(frame) ? 'activity' : 'none')
  return idleWatcher(name ?? 'idle', timeoutMs, onIdle, classify)
}
