/**
 * Delivery marks for output adapters: what a sink tells the run's delivery ledger about the frames it handles.
 *
 * An output adapter (or a transport) creates one marker per run and calls `accept(frame)` before it hands a frame
 * on (skipping the frame when that returns false: it is stale) and `delivered(frame)` once the frame has reached the user (written, acknowledged, played). While a marker is
 * active the task's output stops marking frames delivered itself: the sink inside the pipeline knows better.
 * Nothing is recorded when the run does not allow interruptions.
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Frame } from '../frames/types.js'
import { ledgerOf, type DeliveryLedger } from './ledger.js'
import { isInterruptible } from './uninterruptible.js'

/** What a sink reports about the frames it handles; see the module documentation. */
export interface DeliveryMarker {
  /**
   * The sink is about to hand `frame` to the user. Returns false when the frame is stale — the sink read it before an
   * interruption that has come since: skip it (it is counted as dropped). Otherwise the frame counts as accepted (not
   * yet delivered).
   */
  accept(frame: Frame): boolean
  /** `frame` reached the user. */
  delivered(frame: Frame): void
  /** The sink stops (call it in `finally`): the task's output marks deliveries again. */
  release(): void
}

/**
 * The delivery marker of a sink running with `ctx` and reading `source` (its first argument: the source tells when
 * each frame was read, for the stale check of `accept`). See the module documentation.
 * @example
 * ```ts
 * import { deliveryMarker, type Processor } from 'apipeline-ts'
 *
 * const toSocket: Processor = async function* (source, ctx) {
 *   const marks = deliveryMarker(ctx, source)
 *   try {
 *     for await (const f of source) {
 *       if (f.kind !== 'data') { yield f; continue }
 *       if (!marks.accept(f)) continue // stale: read before an interruption that came since
 *       await socket.send(f) // acknowledged by the peer
 *       marks.delivered(f)
 *     }
 *   } finally {
 *     marks.release()
 *   }
 * }
 * ```
 */
export function deliveryMarker(ctx: ProcessorContext | undefined, source?: unknown): DeliveryMarker {
  // Before `start` has passed, the parameters are unknown: decide at the first frame that needs it.
  return markerOn(() => (ctx !== undefined && ctx.start?.allowInterruptions === true ? ledgerOf(ctx.runtime) : undefined), source)
}

/**
 * A delivery marker recording in the ledger `find()` returns (asked at the first frame that needs it; `undefined`: the
 * run records nothing). `source`, when it tells the epoch of its last read (`readEpoch`), makes `accept` skip stale
 * frames.
 */
export function markerOn(find: () => DeliveryLedger | undefined, source?: unknown): DeliveryMarker {
  let ledger: DeliveryLedger | undefined
  let release: (() => void) | undefined
  let off = false
  const active = (): DeliveryLedger | undefined => {
    if (ledger !== undefined || off) return ledger
    ledger = find()
    if (ledger === undefined) return undefined
    release = ledger.claim()
    return ledger
  }
  return {
    accept(frame) {
      const l = active()
      if (l === undefined) return true
      const readEpoch = (source as { readEpoch?: unknown } | undefined)?.readEpoch
      if (typeof readEpoch === 'number' && readEpoch !== l.epoch && isInterruptible(frame)) {
        l.stale(frame, readEpoch)
        return false
      }
      l.accepted(frame)
      return true
    },
    delivered(frame) {
      active()?.delivered(frame)
    },
    release() {
      off = true
      release?.()
      release = undefined
    },
  }
}
