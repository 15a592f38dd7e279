/**
 * `mapConcurrent(fn, options)`: an async per-frame transform with bounded concurrency that keeps the order.
 * @module
 */
import PQueue from 'p-queue'
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor, type ProcessorFn } from '../core/processor.js'
import { errorMessage } from '../core/stage.js'
import { isAbortLike, isFatal } from '../errors.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { Deque } from '../internal/channel.js'
import { closeQuietly } from '../internal/close.js'
import { isFrameShaped } from '../internal/frame-shape.js'
import { stampEpoch } from '../interruption/epoch-stamp.js'
import { ledgerOf } from '../interruption/ledger.js'
import { sourceIterator } from './source-iterator.js'
import { Wake } from '../internal/wake.js'
import { pumpWindow } from '../internal/window-pump.js'

/** Options of {@link mapConcurrent}. */
export interface MapConcurrentOptions {
  /** Calls of `fn` running at once. Default 4. */
  readonly concurrency?: number
  /** Frames (running, finished or waiting to be emitted) held at most; reading the source waits beyond. Default `2 * concurrency`. */
  readonly window?: number
  /** Which frames `fn` handles; the others pass in order. Default: data frames. */
  readonly match?: (frame: Frame) => boolean
  /** Display name. Default `mapConcurrent`. */
  readonly name?: string
}

/** What `fn` may return: a frame, several frames, or nothing (the frame is dropped). */
export type MapConcurrentResult = Frame | readonly Frame[] | undefined | null

interface Slot {
  /** Frames to emit as they are (non-matching frames). */
  readonly frames?: readonly Frame[]
  /** The call of `fn` for a matching frame. */
  task?: Promise<MapConcurrentResult>
  readonly epoch: number
  /** The signal the call of `fn` received. */
  readonly signal?: AbortSignal
  settled: boolean
  result?: MapConcurrentResult
  error?: { readonly value: unknown }
  /** True while `fn` runs for this slot. */
  running?: boolean
  /** What `fn` returned (set as soon as it returns, before the queue's promise settles). */
  produced?: MapConcurrentResult
  /** Removed by an interruption: what `fn` returns, if it still returns, is dropped. */
  dropped?: boolean
}

function positive(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${where} must be an integer >= 1, got ${String(value)}`)
  }
  return value
}

function toFrames(result: MapConcurrentResult): readonly Frame[] {
  if (result === undefined || result === null) return []
  return Array.isArray(result) ? result : [result as Frame]
}

/** The frames a slot holds or `fn` produced for it (values that are not frames are not counted). */
function framesOf(slot: Slot): readonly Frame[] {
  return (slot.frames ?? toFrames(slot.produced)).filter(isFrameShaped)
}

/**
 * Applies the async `fn` to matching frames (data frames by default) with at most `concurrency` calls running at
 * once (a p-queue), and emits the results **in input order**. Frames that do not match keep their place in the order
 * (a control frame never overtakes data); system frames pass at once.
 *
 * | frame | downstream | upstream |
 * |---|---|---|
 * | system | passes at once (ahead of pending results) | not observed (passes) |
 * | control (`start`, `end`, …) | waits for the results before it, then passes; `end` therefore drains | passes |
 * | data (default `match`) | `fn(frame, { signal, ctx })`, results in order | passes |
 * | app | passes in order (or `fn` if `match` says so) | passes |
 *
 * `fn` receives the run's signal as it was when its frame entered the stage: on an interruption running calls abort,
 * queued ones never start, and results not yet emitted are dropped (control frames waiting among them are kept);
 * `startInterruption` passes ahead. A frame that enters after the interruption gets the fresh signal; one handed over
 * before it, still on its way into the stage when it came, is dropped as stale (never mapped). Each output is
 * stamped with the epoch its input entered in (`stampEpoch`), so nothing of a result of before an interruption follows
 * it, also when the interruption comes in the middle of a multi-frame result; the dropped results (and the data frames
 * waiting among them) are counted in the interruption report, which waits for the dropped calls still running. A call that
 * fails because its signal aborted (interruption or cancel) is dropped quietly; any other exception from `fn` drops
 * that frame and sends an `error` frame upstream (fatal for a `FatalError`).
 *
 * @example
 * ```ts
 * const tts = mapConcurrent(
 *   async (f, { signal }) => (f.kind === 'data' && f.type === 'text' ? Frames.audioRaw({ audio: await synth(f.text, signal) }) : f),
 *   { concurrency: 3 },
 * )
 * ```
 */
export function mapConcurrent(
  fn: (frame: Frame, options: { signal: AbortSignal; ctx: ProcessorContext }) => Promise<MapConcurrentResult> | MapConcurrentResult,
  options: MapConcurrentOptions = {},
): Processor {
  if (typeof fn !== 'function') throw new TypeError('mapConcurrent(fn): fn must be a function')
  const concurrency = positive('mapConcurrent concurrency', options.concurrency, 4)
  const window = positive('mapConcurrent window', options.window, 2 * concurrency)
  const match = options.match ?? ((f: Frame) => f.kind === 'data')
  const name = options.name ?? 'mapConcurrent'

  const processor: ProcessorFn = (source, ctx) => {
    const c = asContext(ctx, name)
    return (async function* mapConcurrentStage(): AsyncGenerator<Frame> {
      const queue = new PQueue({ concurrency })
      const ordered = new Deque<Slot>()
      const priority = new Deque<Frame>(4)
      const input = sourceIterator(source as AsyncIterable<Frame> | Iterable<Frame>)
      const runtime = c.runtime
      let pumpDone = false
      let pumpError: { readonly value: unknown } | undefined
      let stopped = false
      // One waiter on each side at most: the consumer waits for news, the pump waits for room.
      const consumerWake = new Wake()
      const pumpWake = new Wake()
      const notifyConsumer = (): void => consumerWake.notify()
      const notifyPump = (): void => pumpWake.notify()
      const offInterrupt = runtime.onInterrupt(() => {
        // Work started before the interruption is dropped; control and app frames waiting among it keep their place.
        // What is dropped counts in the interruption report: results at hand now, results of running calls when (if)
        // they come.
        const removed = ordered.removeWhere((slot) => slot.task !== undefined || (slot.frames ?? []).every((f) => f.kind === 'data'))
        for (const slot of removed) {
          slot.dropped = true
          // A call still running (its signal aborted, but `fn` may ignore it) is counted when it returns; the report
          // of the interrupted turn waits for it, as for a stage still busy with that turn.
          if (slot.running === true) {
            if (running++ === 0) ledgerOf(runtime).lag(lagToken)
          } else dropFrames(slot)
        }
        notifyPump()
      })
      /** Dropped calls whose `fn` still runs, and the token the ledger waits on while there are any. */
      let running = 0
      const lagToken = {}
      const dropFrames = (slot: Slot): void => {
        const frames = framesOf(slot)
        if (frames.length === 0) return
        const ledger = ledgerOf(runtime)
        for (const f of frames) ledger.dropped(f, slot.epoch)
      }
      const pump = pumpWindow(input, {
        hasRoom: () => ordered.length < window,
        stopped: () => stopped,
        room: pumpWake,
        epoch: () => runtime.interruptEpoch,
        windowEpoch: () => runtime.interruptEpoch,
        matches: match,
        priority: (frame) => priority.push(frame),
        // A frame read before an interruption is never mapped.
        stale: (frame, readEpoch) => ledgerOf(runtime).stale(frame, readEpoch),
        work: (frame) => {
          // The call belongs to the interruption epoch in which its frame entered the stage: it gets that epoch's
          // signal (not `ctx.signal`, which stays the aborted one while the stage waits for its reader).
          const signal = runtime.signal
          const call = async (): Promise<MapConcurrentResult> => {
            slot.running = true
            try {
              const result = await fn(frame, { signal, ctx: c })
              slot.produced = result
              return result
            } finally {
              slot.running = false
              // Dropped by an interruption while running: what it produced counts as dropped now.
              if (slot.dropped === true) {
                dropFrames(slot)
                if (running > 0 && --running === 0) ledgerOf(runtime).caughtUp(lagToken)
              }
            }
          }
          const slot: Slot = { epoch: runtime.interruptEpoch, signal, settled: false }
          slot.task = queue.add(call, { signal })
          slot.task.then(
            (result) => {
              slot.settled = true
              slot.result = result
              notifyConsumer()
            },
            (err: unknown) => {
              slot.settled = true
              slot.error = { value: err }
              notifyConsumer()
            },
          )
          ordered.push(slot)
        },
        pass: (frame) => ordered.push({ frames: [frame], epoch: runtime.interruptEpoch, settled: true }),
        news: notifyConsumer,
        done: (failure) => {
          pumpError = failure
          pumpDone = true
          notifyConsumer()
        },
      })
      try {
        for (;;) {
          const urgent = priority.shift()
          if (urgent !== undefined) {
            yield urgent
            continue
          }
          const head = ordered.peek()
          if (head !== undefined && head.settled) {
            ordered.shift()
            notifyPump()
            // The stage is reading all along, so its last read says nothing about these frames: each is stamped with
            // the epoch its input entered in, and the stage drops it as stale once an interruption came since (also
            // in the middle of a multi-frame result).
            if (head.frames !== undefined) {
              for (const f of head.frames) yield stampEpoch(c, f, head.epoch)
              continue
            }
            if (head.error !== undefined) {
              const err = head.error.value
              // A call stopped by its own signal (an interruption or cancel) is dropped quietly, never reported.
              if (isAbortLike(err) && head.signal?.aborted === true) continue
              c.pushUpstream(errorFrame(errorMessage(err), { fatal: isFatal(err), processor: c.name, cause: err }))
              continue
            }
            for (const f of toFrames(head.result)) yield isFrameShaped(f) ? stampEpoch(c, f, head.epoch) : f
            continue
          }
          if (head === undefined && pumpDone) {
            if (pumpError !== undefined) throw pumpError.value
            return
          }
          await consumerWake.wait()
        }
      } finally {
        stopped = true
        offInterrupt()
        if (running > 0) {
          running = 0
          ledgerOf(runtime).caughtUp(lagToken)
        }
        queue.clear()
        notifyPump()
        void closeQuietly(input)
        // The pump ends once its source answers; it never rejects, so it is not awaited here (a source parked
        // forever must not hold up teardown).
        void pump
      }
    })()
  }
  return withInfo(processor, { name })
}
