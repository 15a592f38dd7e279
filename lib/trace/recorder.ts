/**
 * `traceRecorder(file)`: an observer that writes a session's frames and lifecycle to a JSON-lines file, bounded in
 * size, optionally rotating. View it with `npx apipeline-ts trace view FILE`.
 * @module
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import type { ProcessorFn } from '../core/processor.js'
import { describe } from '../observe/describe.js'
import type { ObserverEvent, ObserverObject } from '../observe/events.js'
import { TRACE_VERSION, traceFrame, type TraceHeader, type TraceLine } from './trace-format.js'

/**
 * Options of {@link traceRecorder}.
 * @example
 * ```ts
 * import { traceRecorder, type TraceRecorderOptions } from 'apipeline-ts/trace'
 * const options: TraceRecorderOptions = { processor: bot, maxBytes: 4 << 20, rotate: 3 }
 * traceRecorder('s.jsonl', options)
 * ```
 */
export interface TraceRecorderOptions {
  /** The processor the task runs: its graph goes in the header, so the viewer draws it. */
  readonly processor?: ProcessorFn<any, any>
  /** Largest size of one file in bytes. Default 16 MiB. */
  readonly maxBytes?: number
  /**
   * Older files kept when a file is full: `FILE.1` (the most recent) … `FILE.<rotate>`; each starts with the header.
   * Default 0: when the file is full, later lines are dropped (and counted).
   */
  readonly rotate?: number
  /** Observer name. Default `trace`. */
  readonly name?: string
  /** Queue capacity of the observer. Default 16384. */
  readonly capacity?: number
}

/**
 * How much a recorder wrote.
 * @example
 * ```ts
 * import type { TraceRecorderStats } from 'apipeline-ts/trace'
 * const complete = (s: TraceRecorderStats) => s.droppedLines === 0
 * ```
 */
export interface TraceRecorderStats {
  readonly lines: number
  readonly bytes: number
  /** Lines not written because the file was full (with `rotate: 0`). */
  readonly droppedLines: number
  /** Files started by rotation. */
  readonly rotations: number
}

/**
 * The recorder: an observer plus its counters and a promise of the file being closed.
 * @example
 * ```ts
 * const rec = traceRecorder('session.jsonl', { processor: bot })
 * await run(bot, input, { observe: rec }).result
 * await rec.closed
 * ```
 */
export interface TraceRecorder extends ObserverObject {
  stats(): TraceRecorderStats
  /** Resolves once the task ended and everything is on disk (rejects if the file could not be written). */
  readonly closed: Promise<void>
}

/** Flush when this much is pending. */
const FLUSH_BYTES = 64 * 1024

function positive(where: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new TypeError(`${where} must be an integer >= ${min}, got ${String(value)}`)
  return value
}

/**
 * An observer that records one task to `file` as JSON lines: a header (with the pipeline's graph when `processor` is
 * given), then every frame leaving each processor, entering and leaving the task, and the interruptions and the end.
 * A file never grows past `maxBytes`; with `rotate: n` a full file is renamed `FILE.1` (older ones shift up to
 * `FILE.n`, the oldest is deleted) and a new one starts with the header again. Writing is batched and asynchronous;
 * if the disk cannot keep up, the observer's queue drops events (counted in the task's observer stats).
 *
 * @example
 * ```ts
 * import { PipelineTask } from 'apipeline-ts'
 * import { traceRecorder } from 'apipeline-ts/trace'
 *
 * const recorder = traceRecorder('session.jsonl', { processor: bot, maxBytes: 8 << 20, rotate: 2 })
 * const task = new PipelineTask(bot, { observe: recorder })
 * // … run the task …
 * await recorder.closed // then: npx apipeline-ts trace view session.jsonl
 * ```
 */
export function traceRecorder(file: string, options: TraceRecorderOptions = {}): TraceRecorder {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError('traceRecorder(file): file must be a non-empty path')
  if (options === null || typeof options !== 'object') throw new TypeError('traceRecorder(options) must be an object')
  const maxBytes = positive('traceRecorder(options.maxBytes)', options.maxBytes, 16 * 1024 * 1024, 1024)
  const rotate = positive('traceRecorder(options.rotate)', options.rotate, 0, 0)
  if (options.processor !== undefined && typeof options.processor !== 'function') throw new TypeError('traceRecorder(options.processor) must be a processor')
  const graph = options.processor === undefined ? null : describe(options.processor).root

  let handle: FileHandle | undefined
  let header: TraceHeader | undefined
  let origin = 0
  let fileBytes = 0
  let lines = 0
  let bytes = 0
  let droppedLines = 0
  let rotations = 0
  let pending: string[] = []
  let pendingBytes = 0
  let writing: Promise<void> = Promise.resolve()
  let failure: unknown
  let finished = false
  let resolveClosed!: () => void
  let rejectClosed!: (err: unknown) => void
  const closed = new Promise<void>((resolve, reject) => {
    resolveClosed = resolve
    rejectClosed = reject
  })
  closed.catch(() => {})

  const rotateFiles = async (): Promise<void> => {
    await handle?.close()
    handle = undefined
    if (rotate === 0) return
    await rm(`${file}.${rotate}`, { force: true })
    for (let i = rotate - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => {})
    await rename(file, `${file}.1`)
  }

  /** Writes the pending lines (in order, one write at a time). */
  const flush = (): Promise<void> => {
    if (pending.length === 0) return writing
    const batch = pending
    pending = []
    pendingBytes = 0
    writing = writing.then(async () => {
      if (failure !== undefined) return
      try {
        for (const chunk of batch) {
          if (chunk === ROTATE) {
            await rotateFiles()
            continue
          }
          handle ??= await open(file, 'w')
          await handle.write(chunk)
        }
      } catch (err) {
        failure = err
      }
    })
    return writing
  }

  const ROTATE = '\u0000rotate'
  let flushScheduled = false
  const flushLater = (): void => {
    flushScheduled = false
    void flush()
  }

  const append = (line: TraceLine): void => {
    const text = `${JSON.stringify(line)}\n`
    const size = Buffer.byteLength(text)
    if (fileBytes + size > maxBytes && line.kind !== 'header') {
      if (rotate === 0 || header === undefined) {
        droppedLines++
        return
      }
      rotations++
      pending.push(ROTATE)
      fileBytes = 0
      append({ ...header, part: rotations })
    }
    pending.push(text)
    pendingBytes += size
    fileBytes += size
    bytes += size
    lines++
  }

  const finish = async (): Promise<void> => {
    await flush()
    try {
      await handle?.close()
    } catch (err) {
      failure ??= err
    }
    handle = undefined
    if (failure !== undefined) rejectClosed(failure)
    else resolveClosed()
  }

  const onEvent = (event: ObserverEvent): void | Promise<void> => {
    if (finished) return
    switch (event.type) {
      case 'started':
        origin = event.time
        header = { kind: 'header', version: TRACE_VERSION, task: event.task, session: event.session, wallClock: event.wallClock, graph, part: 0 }
        append(header)
        break
      case 'frame': {
        if (header === undefined) return
        const prefix = `${header.task}/`
        const p = event.at !== 'processor' ? '' : event.processor.startsWith(prefix) ? event.processor.slice(prefix.length) : event.processor
        append({ kind: 'frame', t: round(event.time - origin), p, d: event.direction, at: event.at, frame: traceFrame(event.frame) })
        break
      }
      case 'interrupted':
        if (header !== undefined) append({ kind: 'interrupted', t: round(event.time - origin) })
        break
      case 'ended':
        if (header !== undefined) append({ kind: 'ended', t: round(event.time - origin), status: event.status })
        finished = true
        return finish()
    }
    if (pendingBytes >= FLUSH_BYTES) return flush()
    if (pending.length > 0 && !flushScheduled) {
      flushScheduled = true
      setImmediate(flushLater)
    }
  }

  return {
    name: options.name ?? 'trace',
    ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
    onEvent,
    closed,
    stats: () => ({ lines, bytes, droppedLines, rotations }),
  }
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000
