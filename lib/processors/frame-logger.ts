/**
 * `frameLogger()`: log the frames passing a point of the pipeline, in both directions.
 * @module
 */
import type { Processor } from '../core/processor.js'
import { format } from '../frames/format.js'
import type { Frame } from '../frames/types.js'
import { parseDirections, reportError, twoWayStep, type Direction, type Directions } from '../operators/two-way.js'

/** Receives each log line, the frame it describes and its direction. */
export type FrameLogSink = (line: string, frame: Frame, direction: Direction) => void

/** Options of {@link frameLogger}. */
export interface FrameLoggerOptions {
  /** Text put before each frame description. Default `'Frame'`. */
  readonly prefix?: string
  /** Where lines go. Default `console.log`. */
  readonly logger?: FrameLogSink
  /** Log only frames whose `type` is listed. */
  readonly include?: readonly string[]
  /** Do not log frames whose `type` is listed. */
  readonly exclude?: readonly string[]
  /** Log only frames for which this returns true (applied after `include`/`exclude`). */
  readonly when?: (frame: Frame, direction: Direction) => boolean
  /** Directions to log. Default `'both'` (frames are forwarded either way). */
  readonly direction?: Directions
  /** Describes a frame. Default `Frames.format`. */
  readonly format?: (frame: Frame) => string
  /** Display name, also used in the lines. Default `'frameLogger'`. */
  readonly name?: string
}

function typeSet(where: string, value: unknown): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
    throw new TypeError(`${where} must be an array of frame type strings`)
  }
  return new Set<string>(value as string[])
}

function optionalFunction(where: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${where} must be a function`)
}

/**
 * Logs every frame that passes, in both directions, and forwards it unchanged (in its own direction). Lines look like
 * `"pipeline/frameLogger ↓ Frame: TextFrame#0(text: "hi")"` (`↑` for upstream). Choose what is logged with `include`,
 * `exclude` (frame types) and `when`; plug any logger in with `logger`. A logger (or `when`/`format`) that throws
 * does not stop the frame: it is forwarded and an `error` frame is reported. Fused with neighbouring per-frame stages.
 *
 * | frame kind | downstream | upstream |
 * |---|---|---|
 * | system | logged (if selected), forwarded | logged (if selected), forwarded |
 * | control | logged (if selected), forwarded | logged (if selected), forwarded |
 * | data | logged (if selected), forwarded | logged (if selected), forwarded |
 * | app | logged (if selected), forwarded | logged (if selected), forwarded |
 *
 * @example
 * ```ts
 * import { frameLogger, pipeline } from 'apipeline-ts'
 *
 * const p = pipeline(
 *   frameLogger({ prefix: 'in', exclude: ['audioRaw'] }),
 *   llm,
 *   frameLogger({ prefix: 'out', logger: (line) => console.info(line) }),
 * )
 * ```
 */
export function frameLogger(options: FrameLoggerOptions = {}): Processor {
  if (options === null || typeof options !== 'object') throw new TypeError('frameLogger(options) must be an object')
  const name = options.name ?? 'frameLogger'
  const prefix = options.prefix ?? 'Frame'
  if (typeof prefix !== 'string') throw new TypeError('frameLogger: prefix must be a string')
  optionalFunction('frameLogger: logger', options.logger)
  optionalFunction('frameLogger: when', options.when)
  optionalFunction('frameLogger: format', options.format)
  const logger: FrameLogSink = options.logger ?? ((line) => console.log(line))
  const describe = options.format ?? format
  const include = typeSet('frameLogger: include', options.include)
  const exclude = typeSet('frameLogger: exclude', options.exclude)
  const when = options.when
  const applies = parseDirections('frameLogger: direction', options.direction)
  return twoWayStep(name, (frame, emit, direction, ctx) => {
    try {
      if (
        applies[direction] &&
        (include === undefined || include.has(frame.type)) &&
        (exclude === undefined || !exclude.has(frame.type)) &&
        (when === undefined || when(frame, direction))
      ) {
        logger(`${ctx.name} ${direction === 'down' ? '↓' : '↑'} ${prefix}: ${describe(frame)}`, frame, direction)
      }
    } catch (err) {
      reportError(ctx, err)
    }
    emit(frame)
  })
}
