/**
 * The trace file format: JSON lines. The first line of every file is a header (the session, the clock origin and the
 * pipeline's graph); then one line per observed frame and lifecycle event, times in ms since the task started.
 * @module
 */
import { format } from '../frames/format.js'
import type { Frame } from '../frames/types.js'
import type { GraphNode } from '../observe/describe.js'
import type { FlowDirection, FramePoint } from '../observe/events.js'

/**
 * Format version written in every header.
 * @example
 * ```ts
 * import { readTrace, TRACE_VERSION } from 'apipeline-ts/trace'
 * const current = (await readTrace('s.jsonl')).header.version === TRACE_VERSION
 * ```
 */
export const TRACE_VERSION = 1

/**
 * The first line of a trace file.
 * @example
 * ```ts
 * import type { TraceHeader } from 'apipeline-ts/trace'
 * const when = (h: TraceHeader) => new Date(h.wallClock).toISOString()
 * ```
 */
export interface TraceHeader {
  readonly kind: 'header'
  readonly version: number
  readonly task: string
  readonly session: number
  /** `Date.now()` when the task started (time 0 of the file). */
  readonly wallClock: number
  /** The pipeline's structure (`describe(processor).root`), when the recorder was given the processor. */
  readonly graph: GraphNode | null
  /** For a rotated file: its place in the sequence, 0 for the first. */
  readonly part: number
}

/**
 * What a trace keeps of a frame: enough to place it and show it.
 * @example
 * ```ts
 * import type { TraceFrame } from 'apipeline-ts/trace'
 * const label = (f: TraceFrame) => `${f.name}: ${f.text}`
 * ```
 */
export interface TraceFrame {
  readonly id: number
  readonly name: string
  readonly kind: Frame['kind']
  readonly type: string
  /** `Frames.format(frame)`, cut to 500 characters. */
  readonly text: string
}

/**
 * One observed frame.
 * @example
 * ```ts
 * import type { TraceFrameLine } from 'apipeline-ts/trace'
 * const isError = (l: TraceFrameLine) => l.frame.type === 'error'
 * ```
 */
export interface TraceFrameLine {
  readonly kind: 'frame'
  /** ms since the task started. */
  readonly t: number
  /** The processor's path below the task; `''` for the task's input and output. */
  readonly p: string
  readonly d: FlowDirection
  readonly at: FramePoint
  readonly frame: TraceFrame
}

/**
 * A lifecycle event after the start.
 * @example
 * ```ts
 * import type { TraceEventLine } from 'apipeline-ts/trace'
 * const interruptions = (lines: TraceEventLine[]) => lines.filter((l) => l.kind === 'interrupted').map((l) => l.t)
 * ```
 */
export interface TraceEventLine {
  readonly kind: 'interrupted' | 'ended'
  readonly t: number
  readonly status?: string
}

/**
 * Any line of a trace file.
 * @example
 * ```ts
 * import type { TraceLine } from 'apipeline-ts/trace'
 * const parse = (line: string) => JSON.parse(line) as TraceLine
 * ```
 */
export type TraceLine = TraceHeader | TraceFrameLine | TraceEventLine

const MAX_TEXT = 500

/**
 * The trace form of `frame`.
 * @example
 * ```ts
 * import { Frames } from 'apipeline-ts'
 * import { traceFrame } from 'apipeline-ts/trace'
 * traceFrame(Frames.text('hi')).text // 'TextFrame#0(text: hi)'
 * ```
 */
export function traceFrame(frame: Frame): TraceFrame {
  let text: string
  try {
    text = format(frame)
  } catch {
    text = frame.name
  }
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT)}…`
  return { id: frame.id, name: frame.name, kind: frame.kind, type: frame.type, text }
}
