/**
 * The frame flow of a worker-thread stage: frames read from the source keep their order in a bounded window; the ones
 * for the threads are sent in batches — as many as are already there when a thread has room — and their results are
 * emitted in input order.
 * @module
 */
import type { Context } from '../core/context.js'
import type { SyncPull } from '../core/stage.js'
import { error as errorFrame } from '../frames/constructors.js'
import type { Frame } from '../frames/types.js'
import { Deque } from '../internal/channel.js'
import { ledgerOf } from '../interruption/ledger.js'
import { closeQuietly } from '../internal/close.js'
import { sourceIterator } from '../operators/source-iterator.js'
import type { Outcome, ThreadPool } from './thread-pool.js'
import { Wake } from '../internal/wake.js'
import { pumpWindow } from '../internal/window-pump.js'

/** The output of a flow: an async iterator whose ready frames can also be taken without waiting (`tryNext`). */
export interface OrderedOutput extends AsyncIterableIterator<Frame>, SyncPull<Frame> {
  return(): Promise<IteratorResult<Frame>>
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true }
const NO_FRAMES: readonly Frame[] = []

/** How the frames flow to the threads. */
export interface BatchSettings {
  /** Frames in the threads at most (sent and not answered). */
  readonly maxInFlight: number
  /** Frames in one message at most. */
  readonly maxBatch: number
  /** Which frames go to the threads; the others keep their place (system frames pass at once). */
  readonly match: (frame: Frame) => boolean
  /** Move the byte buffers of the frames sent instead of copying them. */
  readonly move: boolean
  /** Set when the pool cannot go on: the flow throws it. */
  readonly failure: () => { readonly value: unknown } | undefined
}

/** A place in the output order: frames passing as they are, or a frame handled in a thread. */
interface Slot {
  /** Frames emitted as they are (frames the threads do not handle). */
  readonly frames?: readonly Frame[]
  /** The frame for the threads. */
  input?: Frame
  /** The stage's interruption epoch when the frame was read. */
  readonly epoch: number
  /** True once the frame went to a thread. */
  sent?: boolean
  settled: boolean
  outcome?: Outcome | undefined
  /** Removed by an interruption while its frame was in a thread: what comes back counts as dropped then. */
  dropped?: boolean
}

/**
 * Runs `source` through `pool` in order (see {@link BatchSettings}). Returns the stage's output; `wake` is to be called
 * when `settings.failure()` changes.
 */
export function orderedBatches(source: AsyncIterable<Frame> | Iterable<Frame>, c: Context, pool: ThreadPool, settings: BatchSettings): { output: OrderedOutput; wake: () => void } {
  const { maxInFlight, maxBatch, match, move } = settings
  const window = 2 * maxInFlight
  const runtime = c.runtime
  const ordered = new Deque<Slot>()
  /** Slots of `ordered` whose frame is not sent yet, oldest first. */
  const unsent = new Deque<Slot>()
  const priority = new Deque<Frame>(4)
  const input = sourceIterator(source)
  /** The run's interruption epoch as this stage last saw it (the pool's threads are told each new one). */
  let epoch = runtime.interruptEpoch
  pool.setEpoch(epoch)
  let pumpDone = false
  let pumpError: { readonly value: unknown } | undefined
  let stopped = false
  let flushing: ReturnType<typeof setImmediate> | undefined
  // One waiter on each side at most: the consumer waits for news, the pump waits for room.
  const consumerWake = new Wake()
  const pumpWake = new Wake()
  const notifyConsumer = (): void => consumerWake.notify()
  const notifyPump = (): void => pumpWake.notify()
  const report = (outcome: Outcome | undefined): void => {
    if (outcome !== undefined && 'error' in outcome) {
      const err = outcome.error
      c.pushUpstream(errorFrame(err.message, { fatal: err.fatal, processor: c.name, cause: err }))
    }
  }

  /** Sends what is unsent while the threads have room, in batches of at most `maxBatch`. */
  const flush = (): void => {
    if (flushing !== undefined) {
      clearImmediate(flushing)
      flushing = undefined
    }
    while (!stopped && unsent.length > 0 && pool.inFlight < maxInFlight) {
      const n = Math.min(unsent.length, maxInFlight - pool.inFlight, maxBatch)
      const slots: Slot[] = []
      for (let i = 0; i < n; i++) {
        const slot = unsent.shift() as Slot
        slot.sent = true
        slots.push(slot)
      }
      pool.send(
        slots.map((s) => s.input as Frame),
        move,
        epoch,
        (outcomes) => {
          const again: Slot[] = []
          for (let i = 0; i < slots.length; i++) {
            const slot = slots[i] as Slot
            const outcome = outcomes[i]
            if (outcome !== undefined && 'retry' in outcome) {
              // Handed back unstarted by a thread that is exiting: another thread takes it, first in line.
              slot.input = outcome.retry
              if (slot.epoch === epoch && !stopped) {
                again.push(slot)
                continue
              }
            }
            slot.settled = true
            slot.outcome = outcome
            // Work an interruption overtook is not emitted, but an error in it is still reported.
            if (slot.epoch !== epoch) report(outcome)
            if (slot.dropped === true) {
              slot.dropped = false
              dropSlot(slot)
              if (lagging > 0 && --lagging === 0) ledgerOf(runtime).caughtUp(lagToken)
            }
          }
          for (let i = again.length - 1; i >= 0; i--) unsent.unshift(again[i] as Slot)
          notifyConsumer()
          flush()
        },
      )
    }
  }
  // Frames read in one turn of the event loop go out together: the flush runs once the pump has read what is there.
  const scheduleFlush = (): void => {
    flushing ??= setImmediate(flush)
  }

  /** Frames of one settled slot still to emit, and whether they answer input of the epoch they were read in. */
  let pending: readonly Frame[] = NO_FRAMES
  let pendingAt = 0
  let pendingEpoch: number | undefined
  /** Slots removed by an interruption whose frame is still in a thread, and the token the ledger waits on meanwhile. */
  let lagging = 0
  const lagToken = {}
  /**
   * Counts what a slot removed by an interruption would have emitted as dropped in the turn it answers: the frames a
   * thread returned for it, or its input when no thread ran it (not sent, skipped, lost).
   */
  const dropSlot = (slot: Slot): void => {
    const ledger = ledgerOf(runtime)
    const outcome = slot.outcome
    const frames = slot.frames ?? (outcome !== undefined && 'frames' in outcome ? outcome.frames : outcome !== undefined && 'error' in outcome ? [] : slot.input === undefined ? [] : [slot.input])
    for (const f of frames) ledger.dropped(f, slot.epoch)
  }
  const offInterrupt = runtime.onInterrupt(() => {
    epoch = runtime.interruptEpoch
    pool.setEpoch(epoch)
    // Frames read before the interruption are not handled (those in a thread and not started yet are skipped there)
    // and their results are not emitted; control and app frames waiting among them keep their place. What is dropped
    // counts in the interruption report, whose turn waits for the frames still in a thread.
    const removed = ordered.removeWhere((slot) => slot.input !== undefined || (slot.frames ?? []).every((f) => f.kind === 'data'))
    for (const slot of removed) {
      if (slot.input !== undefined && !slot.settled && slot.sent === true) {
        slot.dropped = true
        if (lagging++ === 0) ledgerOf(runtime).lag(lagToken)
      } else dropSlot(slot)
    }
    unsent.clear()
    // The rest of a result being emitted when the interruption came.
    if (pendingEpoch !== undefined && pendingEpoch !== epoch) {
      for (let i = pendingAt; i < pending.length; i++) ledgerOf(runtime).dropped(pending[i] as Frame, pendingEpoch)
      pending = NO_FRAMES
    }
    notifyPump()
  })
  // Teardown closes the stage while its output waits for the threads: wake it, so it ends at once.
  const offCancel = runtime.onCancel(notifyConsumer)
  const pump = pumpWindow(input, {
    hasRoom: () => ordered.length < window,
    stopped: () => stopped,
    room: pumpWake,
    epoch: () => runtime.interruptEpoch,
    windowEpoch: () => epoch,
    matches: match,
    priority: (frame) => priority.push(frame),
    // A frame read before an interruption is never sent.
    stale: (frame, readEpoch) => ledgerOf(runtime).stale(frame, readEpoch),
    work: (frame) => {
      const slot: Slot = { input: frame, epoch, settled: false }
      ordered.push(slot)
      unsent.push(slot)
      scheduleFlush()
    },
    pass: (frame) => ordered.push({ frames: [frame], epoch, settled: true }),
    news: notifyConsumer,
    done: (failure) => {
      pumpError = failure
      pumpDone = true
      notifyConsumer()
    },
  })

  let finished = false
  /** Stops reading and lets go of everything the flow holds; idempotent. */
  const finish = (): void => {
    if (finished) return
    finished = true
    stopped = true
    pending = NO_FRAMES
    offInterrupt()
    if (lagging > 0) {
      lagging = 0
      ledgerOf(runtime).caughtUp(lagToken)
    }
    offCancel()
    if (flushing !== undefined) clearImmediate(flushing)
    notifyPump()
    notifyConsumer()
    void closeQuietly(input)
    // The pump ends once its source answers; it never rejects, so it is not awaited here (a source parked forever
    // must not hold up teardown).
    void pump
  }
  /**
   * The next output if one is ready; `undefined` when the consumer must wait for news. With `sync`, a failure to throw
   * is left to the asynchronous path (also `undefined`). Throws the failure that ends the flow.
   */
  const poll = (sync: boolean): IteratorResult<Frame> | undefined => {
    for (;;) {
      if (finished || runtime.cancelled) {
        finish()
        return DONE
      }
      const failure = settings.failure()
      if (failure !== undefined) {
        if (sync) return undefined
        finish()
        throw failure.value
      }
      const urgent = priority.shift()
      if (urgent !== undefined) return { value: urgent, done: false }
      if (pendingAt < pending.length) {
        return { value: pending[pendingAt++] as Frame, done: false }
      }
      const head = ordered.peek()
      if (head !== undefined && head.settled) {
        ordered.shift()
        notifyPump()
        if (head.frames !== undefined) {
          pending = head.frames
          pendingAt = 0
          pendingEpoch = undefined
          continue
        }
        const outcome = head.outcome
        if (outcome === undefined || 'dropped' in outcome || 'retry' in outcome) continue
        if ('error' in outcome) {
          report(outcome)
          continue
        }
        if (head.epoch === epoch) {
          pending = outcome.frames
          pendingAt = 0
          pendingEpoch = head.epoch
        }
        continue
      }
      if (head === undefined && pumpDone) {
        if (pumpError !== undefined) {
          if (sync) return undefined
          finish()
          throw pumpError.value
        }
        finish()
        return DONE
      }
      return undefined
    }
  }
  const output: OrderedOutput = {
    async next(): Promise<IteratorResult<Frame>> {
      for (;;) {
        const r = poll(false)
        if (r !== undefined) return r
        await consumerWake.wait()
      }
    },
    tryNext: () => poll(true),
    return(): Promise<IteratorResult<Frame>> {
      finish()
      return Promise.resolve(DONE)
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
  return { output, wake: notifyConsumer }
}
