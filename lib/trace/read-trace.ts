/**
 * Reading a trace file back.
 * @module
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { TraceEventLine, TraceFrameLine, TraceHeader } from './trace-format.js'

/**
 * A trace file that is not one (no header line, or not JSON lines at all).
 * @example
 * ```ts
 * try { await readTrace('x.jsonl') } catch (e) { if (e instanceof TraceFormatError) console.error(e.message) }
 * ```
 */
export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError'
}

/**
 * A trace read back: its header, frames and lifecycle events in file order.
 * @example
 * ```ts
 * import { readTrace } from 'apipeline-ts/trace'
 * const trace = await readTrace('session.jsonl')
 * console.log(trace.header.task, trace.frames.length)
 * ```
 */
export interface Trace {
  readonly header: TraceHeader
  readonly frames: TraceFrameLine[]
  readonly events: TraceEventLine[]
  /** Lines that were not valid trace lines (skipped). */
  readonly malformed: number
}

/**
 * Options of {@link readTrace}.
 * @example
 * ```ts
 * import { readTrace, type ReadTraceOptions } from 'apipeline-ts/trace'
 * const options: ReadTraceOptions = { onProgress: (done, total) => console.log(`${done}/${total}`) }
 * await readTrace('s.jsonl', options)
 * ```
 */
export interface ReadTraceOptions {
  /** Called as the file is read, with the bytes read so far and the file's size. */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isFrameLine(v: Record<string, unknown>): boolean {
  const f = v.frame
  return typeof v.t === 'number' && typeof v.p === 'string' && (v.d === 'down' || v.d === 'up') && typeof v.at === 'string' && isObject(f) && typeof f.name === 'string' && typeof f.kind === 'string' && typeof f.text === 'string'
}

/**
 * Reads a trace file written by `traceRecorder`. Lines that are not trace lines are skipped and counted; a file
 * without a header line is a {@link TraceFormatError}.
 * @example
 * ```ts
 * const trace = await readTrace('session.jsonl', {
 *   onProgress: (done, total) => process.stderr.write(`\r${Math.round((100 * done) / total)}%`),
 * })
 * ```
 */
export async function readTrace(file: string, options: ReadTraceOptions = {}): Promise<Trace> {
  const total = (await stat(file)).size
  const stream = createReadStream(file, { encoding: 'utf8' })
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  let header: TraceHeader | undefined
  const frames: TraceFrameLine[] = []
  const events: TraceEventLine[] = []
  let malformed = 0
  let read = 0
  let lastReport = 0
  try {
    for await (const line of lines) {
      read += Buffer.byteLength(line) + 1
      if (options.onProgress !== undefined && read - lastReport > 256 * 1024) {
        lastReport = read
        options.onProgress(Math.min(read, total), total)
      }
      if (line.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        malformed++
        continue
      }
      if (!isObject(value)) {
        malformed++
        continue
      }
      if (value.kind === 'header' && typeof value.task === 'string') {
        header ??= value as unknown as TraceHeader
      } else if (value.kind === 'frame' && isFrameLine(value)) {
        frames.push(value as unknown as TraceFrameLine)
      } else if ((value.kind === 'interrupted' || value.kind === 'ended') && typeof value.t === 'number') {
        events.push(value as unknown as TraceEventLine)
      } else {
        malformed++
      }
    }
  } finally {
    stream.destroy()
  }
  options.onProgress?.(total, total)
  if (header === undefined) throw new TraceFormatError(`${file} is not a trace: no header line (${malformed} unreadable lines)`)
  return { header, frames, events, malformed }
}
