/**
 * The engine of the hold aggregators: hold selected frames until a notifier fires, releasing them inside the stream.
 * @module
 */
import { asContext, type ProcessorContext } from '../../core/context.js'
import { withInfo, type Processor } from '../../core/processor.js'
import { isInterruption } from '../../frames/guards.js'
import type { Frame } from '../../frames/types.js'
import { assertNotifier, type Notifier } from '../../notifiers/notifier.js'
import { reportError } from '../../operators/two-way.js'
import {
  parseAtEnd,
  parseInterruption,
  parseSelector,
  reportDiscarded,
  type AtEndPolicy,
  type InterruptionPolicy,
} from './held.js'

/** Options shared by {@link holdFrames} and {@link holdLastFrame}. */
export interface HoldOptions {
  /**
   * Which frames are held: a list of frame types (`['text']`, app types…) or a predicate. Only downstream data and
   * app frames can be held; system and control frames always pass.
   */
  readonly hold: readonly string[] | ((frame: Frame) => boolean)
  /** Frames still held at `end`: `'flush'` (default) emits them before `end`; `'discard'` drops them and reports an `error` frame. */
  readonly atEnd?: AtEndPolicy
  /** A downstream interruption: `'drop'` (default) drops held data frames (held app frames stay); `'keep'` keeps them. */
  readonly interruption?: InterruptionPolicy
  /** Display name. */
  readonly name?: string
}

type Step = { kind: 'frame'; result: IteratorResult<Frame> } | { kind: 'error'; error: unknown }

/** Builds a hold aggregator; `last` keeps only the most recent held frame. @internal (use holdFrames / holdLastFrame) */
export function holdAggregator(notifier: Notifier, options: HoldOptions, last: boolean, defaultName: string): Processor {
  assertNotifier(`${defaultName}(notifier)`, notifier)
  if (options === null || typeof options !== 'object') throw new TypeError(`${defaultName}(notifier, options) needs { hold }`)
  const selects = parseSelector(`${defaultName}: hold`, options.hold)
  const atEnd = parseAtEnd(defaultName, options.atEnd)
  const onInterruption = parseInterruption(defaultName, options.interruption)
  const name = options.name ?? defaultName

  const aggregator = (source: AsyncIterable<Frame>, context?: ProcessorContext): AsyncIterable<Frame> => {
    const ctx = asContext(context, name)
    const isHeld = (frame: Frame): boolean => {
      if (frame.kind !== 'data' && frame.kind !== 'app') return false
      try {
        return selects(frame) === true
      } catch (err) {
        reportError(ctx, err)
        return false
      }
    }
    return (async function* holdAggregatorGen() {
      const it = source[Symbol.asyncIterator]()
      const stop = new AbortController()
      let held: Frame[] = []
      // One pending source read and one pending notifier wait at most; each settles into a flag and wakes the loop.
      let pulling = false
      let ready: Step | undefined
      let waiting = false
      let notified = false
      let waitBroken = false
      let wake: (() => void) | undefined
      const rouse = (): void => {
        const w = wake
        wake = undefined
        w?.()
      }
      const pull = (): void => {
        pulling = true
        it.next().then(
          (result) => {
            pulling = false
            ready = { kind: 'frame', result }
            rouse()
          },
          (error: unknown) => {
            pulling = false
            ready = { kind: 'error', error }
            rouse()
          },
        )
      }
      const arm = (): void => {
        waiting = true
        notifier.wait(stop.signal).then(
          () => {
            waiting = false
            notified = true
            rouse()
          },
          (err: unknown) => {
            waiting = false
            if (stop.signal.aborted) return
            // A broken notifier: report once and stop waiting; held frames are still flushed at `end`.
            waitBroken = true
            reportError(ctx, err)
            rouse()
          },
        )
      }
      const release = (): Frame[] => {
        const out = held
        held = []
        return out
      }
      try {
        for (;;) {
          if (!waiting && !notified && !waitBroken) arm()
          if (!pulling && ready === undefined) pull()
          if (ready === undefined && !notified) {
            await new Promise<void>((resolve) => {
              wake = resolve
            })
          }
          if (notified) {
            notified = false
            if (held.length > 0) yield* release()
            continue
          }
          const step = ready as Step
          ready = undefined
          if (step.kind === 'error') throw step.error
          if (step.result.done === true) {
            // The source ended without `end` (stop or teardown): on cancel, queued frames are dropped by contract.
            if (held.length > 0 && !ctx.cancelSignal.aborted) {
              if (atEnd === 'discard') reportDiscarded(ctx, release(), 'when the input ended')
              else yield* release()
            }
            return
          }
          const frame = step.result.value
          if (isHeld(frame)) {
            if (last) held = [frame]
            else held.push(frame)
            continue
          }
          if (frame.kind === 'control' && frame.type === 'end' && held.length > 0) {
            if (atEnd === 'discard') reportDiscarded(ctx, release(), 'at end')
            else yield* release()
          } else if (isInterruption(frame) && onInterruption === 'drop' && held.length > 0) {
            held = held.filter((f) => f.kind !== 'data')
          }
          yield frame
        }
      } finally {
        stop.abort()
        if (typeof it.return === 'function') {
          try {
            const closing = it.return()
            if (closing instanceof Promise) closing.catch(() => {})
          } catch {
            // The source's own cleanup failed; nothing more to do with it.
          }
        }
      }
    })()
  }
  return withInfo(aggregator, { name })
}
