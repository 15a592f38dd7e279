/**
 * Epoch stamps: how a processor that reads and produces concurrently tells its stage which turn a frame answers.
 *
 * A stage decides whether an output is stale from the epoch of the input its processor last read (see the README
 * section "Interruptions"). That is right for a processor that reads, works, yields and reads again; it is not for one
 * whose reading runs beside its producing — a pump that keeps reading its source into a queue while another loop
 * streams an answer (a model client fed by a pushable, a transport whose replies arrive independently of reads):
 * such a processor has always just read something, yet what it yields may answer input read before an interruption.
 *
 * Such a processor takes `currentEpoch(ctx)` when it reads an input and stamps every frame it produces for that input
 * with it (`stampEpoch(ctx, frame, epoch)`). The stage the frame crosses drops it as stale when an interruption came
 * since the stated epoch (counted by the run's delivery ledger, like every stale frame). A stamp can only make a frame
 * stale: the stage's own rule still applies, and the older of the two epochs decides. A stamp is read once, by the
 * first stage boundary the frame crosses.
 * @module
 */
import type { ProcessorContext } from '../core/context.js'
import type { Frame } from '../frames/types.js'

/**
 * The run's interruption epoch now: 0 before the first interruption, one more after each. Take it when reading an
 * input whose answer is produced elsewhere, and stamp the answer with it ({@link stampEpoch}). Without a context (a
 * processor called outside a run) it is 0.
 * @example
 * ```ts
 * import { currentEpoch, stampEpoch, type ProcessorFn } from 'apipeline-ts'
 *
 * const echoLater: ProcessorFn = async function* (source, ctx) {
 *   for await (const f of source) {
 *     const epoch = currentEpoch(ctx) // the turn this input belongs to
 *     await new Promise((resolve) => setTimeout(resolve, 10))
 *     yield stampEpoch(ctx, f, epoch)
 *   }
 * }
 * ```
 */
export function currentEpoch(ctx: ProcessorContext | undefined): number {
  return ctx?.runtime.interruptEpoch ?? 0
}

/**
 * States that `frame`, which the processor running with `ctx` hands over (now or later), answers input read in
 * interruption epoch `epoch` (a value of {@link currentEpoch} taken when that input was read). The stage drops the
 * frame as stale if an interruption has come since. Returns `frame` itself (not a copy). Without a context it does
 * nothing. Throws a `TypeError` for an epoch that is not an integer >= 0 or a value that is not an object.
 * @example
 * ```ts
 * import { currentEpoch, stampEpoch, Frames, type Frame, type ProcessorFn } from 'apipeline-ts'
 * import { pushable } from 'it-pushable'
 *
 * // Reads its source and streams answers concurrently: the pump never stops reading.
 * const talker: ProcessorFn = (source, ctx) => {
 *   const out = pushable<Frame>({ objectMode: true })
 *   void (async () => {
 *     for await (const f of source) {
 *       if (f.kind !== 'data' || f.type !== 'text') continue
 *       const epoch = currentEpoch(ctx)
 *       for (const word of f.text.split(' ')) {
 *         await new Promise((resolve) => setTimeout(resolve, 5))
 *         out.push(stampEpoch(ctx, Frames.text(word), epoch))
 *       }
 *     }
 *     out.end()
 *   })()
 *   return out
 * }
 * ```
 */
export function stampEpoch<F extends Frame>(ctx: ProcessorContext | undefined, frame: F, epoch: number): F {
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
    throw new TypeError(`stampEpoch(epoch) must be an integer >= 0, got ${String(epoch)}`)
  }
  if (frame === null || typeof frame !== 'object') throw new TypeError('stampEpoch(frame) needs a frame')
  if (ctx === undefined) return frame
  const runtime = ctx.runtime
  // A run without interruptions has one epoch: nothing to state (and nothing to pay per frame).
  if (runtime.start?.allowInterruptions !== true) return frame
  const stamps = (runtime.epochStamps ??= new WeakMap())
  stamps.set(frame, epoch)
  return frame
}
