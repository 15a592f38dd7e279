/**
 * `textTransformer(fn)`: rewrite the text of text frames with a sync or async function, in both directions.
 * @module
 */
import { asContext, type ProcessorContext } from '../core/context.js'
import { withInfo, type Processor } from '../core/processor.js'
import { isAbortLike, isFatal } from '../errors.js'
import { text as textFrame } from '../frames/constructors.js'
import type { Frame, TextFrame } from '../frames/types.js'
import { isAsyncFunction, orderedUpstream, reportError, twoWayStep, type Direction } from '../operators/two-way.js'

/** What a {@link textTransformer} function receives besides the text. */
export interface TransformInfo {
  /** The text frame being transformed. */
  readonly frame: TextFrame
  /** The direction it travels (the result travels the same way). */
  readonly direction: Direction
  /** The stage's `ctx.signal`: aborts on cancel and on interruptions. Pass it to async work. */
  readonly signal: AbortSignal
  /** The stage's context. */
  readonly ctx: ProcessorContext
}

/** A {@link textTransformer} function: the new text, or a promise of it. */
export type TextTransform = (text: string, info: TransformInfo) => string | Promise<string>

/** Options of {@link textTransformer}. */
export interface TextTransformerOptions {
  /**
   * Treat `fn` as asynchronous (results awaited one frame at a time, in order). Default: true for functions declared
   * `async`, else false. A synchronous transformer is fused with neighbouring per-frame stages; if its function
   * returns a promise anyway, the frame is dropped and a `TypeError` is reported.
   */
  readonly async?: boolean
  /** Display name. Default `'textTransformer'`. */
  readonly name?: string
}

function checkText(value: unknown): string {
  if (typeof value === 'string') return value
  throw new TypeError(
    value instanceof Promise
      ? 'textTransformer: the function returned a promise; declare it `async` or pass { async: true }'
      : `textTransformer: the function must return a string, got ${value === null ? 'null' : typeof value}`,
  )
}

function output(frame: TextFrame, result: string): TextFrame {
  return result === frame.text ? frame : textFrame(result)
}

/**
 * Replaces every `text` frame with a new text frame holding `fn(text, info)`, **in the direction it was travelling**
 * (the Python transformer turned upstream text around). A result equal to the input forwards the original frame;
 * otherwise the new frame has a new `id`. Other frames pass unchanged. A synchronous `fn` is fused with neighbouring
 * per-frame stages; an async one is awaited per frame, order kept, with `info.signal` aborting on cancel and
 * interruptions. If `fn` throws, that frame is dropped and an `error` frame names the stage (a `FatalError` ends the
 * task).
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | pass | pass at once (may overtake upstream text waiting for an async `fn`) |
 * | control | pass (in order) | pass (in order with upstream text) |
 * | data | `text` → transformed text, same direction; `audioRaw`/`imageRaw` pass | same |
 * | app | pass | pass |
 *
 * @example
 * ```ts
 * import { textTransformer, run, Frames } from 'apipeline-ts'
 *
 * const shout = textTransformer((text) => text.toUpperCase())
 * const translate = textTransformer(async (text, { signal }) => await translateApi(text, { signal }))
 * for await (const f of run(shout, [Frames.text('hi')])) console.log(Frames.format(f)) // … TextFrame#1(text: "HI") …
 * ```
 */
export function textTransformer(fn: TextTransform, options: TextTransformerOptions = {}): Processor {
  if (typeof fn !== 'function') throw new TypeError('textTransformer(fn): fn must be a function')
  if (options === null || typeof options !== 'object') throw new TypeError('textTransformer(options) must be an object')
  const name = options.name ?? 'textTransformer'
  const isAsync = options.async ?? isAsyncFunction(fn)
  if (typeof isAsync !== 'boolean') throw new TypeError('textTransformer: async must be a boolean')

  if (!isAsync) {
    return twoWayStep(name, (frame, emit, direction, ctx) => {
      if (frame.type !== 'text' || frame.kind !== 'data') {
        emit(frame)
        return
      }
      emit(output(frame, checkText(fn(frame.text, { frame, direction, signal: ctx.signal, ctx }))))
    })
  }

  const transformer = (source: AsyncIterable<Frame>, context?: ProcessorContext): AsyncIterable<Frame> => {
    const ctx = asContext(context, name)
    const apply = (frame: TextFrame, direction: Direction): TextFrame | Promise<TextFrame> => {
      const result = fn(frame.text, { frame, direction, signal: ctx.signal, ctx })
      return result instanceof Promise ? result.then((r) => output(frame, checkText(r))) : output(frame, checkText(result))
    }
    return (async function* textTransformerAsync() {
      const up = orderedUpstream(
        ctx,
        (frame) => frame.kind === 'system',
        (frame) => {
          if (frame.type !== 'text' || frame.kind !== 'data') return [frame]
          const out = apply(frame, 'up')
          return out instanceof Promise ? out.then((f) => [f]) : [out]
        },
      )
      try {
        for await (const frame of source) {
          if (frame.type !== 'text' || frame.kind !== 'data') {
            // `end` waits for the upstream text still being transformed, so none is left behind.
            if (frame.kind === 'control' && frame.type === 'end') await up.drained()
            yield frame
            continue
          }
          let out: TextFrame
          try {
            const result = apply(frame, 'down')
            out = result instanceof Promise ? await result : result
          } catch (err) {
            if (isFatal(err) || isAbortLike(err)) throw err
            reportError(ctx, err)
            continue
          }
          yield out
        }
      } finally {
        up.off()
      }
    })()
  }
  return withInfo(transformer as Processor, { name })
}
