/**
 * Delivery marks for output adapters: what a sink tells the run's delivery ledger about the frames it handles.
 *
 * An output adapter (or a transport) creates one marker per run and calls `accepted(frame)` when it takes a frame
 * over and `delivered(frame)` once the frame has reached the user (written, acknowledged, played). While a marker is
 * active the task's output stops marking frames delivered itself: the sink inside the pipeline knows better.
 * Nothing is recorded when the run does not allow interruptions.
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Frame } from '../frames/types.js'
import { ledgerOf, type DeliveryLedger } from './ledger.js'

/** What a sink reports about the frames it handles; see the module documentation. */
export interface DeliveryMarker {
  /** The sink took `frame` over; it has not reached the user yet. */
  accepted(frame: Frame): void
  /** `frame` reached the user. */
  delivered(frame: Frame): void
  /** The sink stops (call it in `finally`): the task's output marks deliveries again. */
  release(): void
}

/**
 * The delivery marker of a sink running with `ctx` (see the module documentation).
 * @example
 * ```ts
 * import { deliveryMarker, type Processor } from 'apipeline-ts'
 *
 * const toSocket: Processor = async function* (source, ctx) {
 *   const marks = deliveryMarker(ctx)
 *   try {
 *     for await (const f of source) {
 *       if (f.kind !== 'data') { yield f; continue }
 *       marks.accepted(f)
 *       await socket.send(f) // acknowledged by the peer
 *       marks.delivered(f)
 *     }
 *   } finally {
 *     marks.release()
 *   }
 * }
 * ```
 */
export function deliveryMarker(ctx: ProcessorContext | undefined): DeliveryMarker {
  let ledger: DeliveryLedger | undefined
  let release: (() => void) | undefined
  let off = false
  const active = (): DeliveryLedger | undefined => {
    if (ledger !== undefined || off || ctx === undefined) return ledger
    // Before `start` has passed, the parameters are unknown: decide at the first frame that needs it.
    if (ctx.start?.allowInterruptions !== true) return undefined
    ledger = ledgerOf(ctx.runtime)
    release = ledger.claim()
    return ledger
  }
  return {
    accepted(frame) {
      active()?.accepted(frame)
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
