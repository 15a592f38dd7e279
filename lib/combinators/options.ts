/**
 * Arguments of the fan-out combinators: an optional options object first, then the branches.
 * @module
 */
import { pipeline } from '../core/pipeline.js'
import { assertProcessor, type Processor, type ProcessorFn } from '../core/processor.js'
import type { Frame } from '../frames/types.js'

/** A branch: a processor, or an array of processors run as one `pipeline(...)`. */
export type Branch = ProcessorFn<any, any> | readonly ProcessorFn<any, any>[]

/** Options shared by `parallel`, `syncParallel` and `sequential`. */
export interface FanOutOptions {
  /**
   * Frames each branch input buffers, and frames the merged output queue holds (default 16). A branch that falls
   * this far behind slows the input; memory stays bounded.
   */
  readonly capacity?: number
  /**
   * How many frame ids the join remembers to emit a frame object leaving several branches once (default 1024).
   * A branch that holds a frame object back while more than this many other frames leave may let a second copy out.
   */
  readonly dedupeWindow?: number
  /** Display name of the element (default the combinator's name). */
  readonly name?: string
}

/** Options of `sequential`. */
export interface SequentialOptions extends FanOutOptions {
  /**
   * Frames of later pipelines held while an earlier one still runs (default 10000). Exceeding it fails the element
   * with a `FatalError` instead of growing memory without bound.
   */
  readonly maxBuffered?: number
}

/** The parsed arguments. */
export interface ParsedFanOut {
  readonly branches: Processor[]
  readonly capacity: number
  readonly dedupeWindow: number
  readonly maxBuffered: number
  readonly name: string | undefined
}

function positiveInteger(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${where} must be an integer >= 1, got ${typeof value === 'number' ? String(value) : typeof value}`)
  }
  return value
}

function isOptions(value: unknown): value is SequentialOptions {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Validates `args` (`[options?, ...branches]`) for the combinator `label`; wraps every branch with `pipeline`. */
export function parseFanOut(label: string, args: readonly unknown[]): ParsedFanOut {
  let options: SequentialOptions = {}
  let rest = args
  if (args.length > 0 && isOptions(args[0])) {
    options = args[0]
    rest = args.slice(1)
  }
  if (rest.length === 0) throw new TypeError(`${label}() needs at least one branch`)
  const branches = rest.map((branch, i) => {
    if (Array.isArray(branch)) {
      branch.forEach((stage: unknown, j: number) => assertProcessor(`${label}() branch ${i} stage ${j}`, stage))
      return pipeline(...(branch as ProcessorFn<Frame, Frame>[]))
    }
    assertProcessor(`${label}() branch ${i}`, branch)
    return pipeline(branch as ProcessorFn<Frame, Frame>)
  })
  const name = options.name
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new TypeError(`${label}(options.name) must be a non-empty string`)
  }
  return {
    branches,
    capacity: positiveInteger(`${label}(options.capacity)`, options.capacity, 16),
    dedupeWindow: positiveInteger(`${label}(options.dedupeWindow)`, options.dedupeWindow, 1024),
    maxBuffered: positiveInteger(`${label}(options.maxBuffered)`, options.maxBuffered, 10_000),
    name,
  }
}
