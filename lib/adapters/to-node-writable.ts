/**
 * `toNodeWritable(writable)`: an it-pipe sink writing frames to a Node.js `Writable`, honouring `drain`.
 * Typed structurally, so the core needs no Node import.
 * @module
 */
import type { Frame } from '../frames/types.js'
import { parseStreamSinkOptions, writeFrames, type StreamSinkOptions } from './stream-sink.js'

/** The part of a Node.js `stream.Writable` that {@link toNodeWritable} uses. */
export interface NodeWritableLike {
  write(chunk: any): boolean
  end(): unknown
  once(event: 'drain' | 'error' | 'close' | 'finish', listener: (...args: any[]) => void): unknown
  removeListener(event: 'drain' | 'error' | 'close' | 'finish', listener: (...args: any[]) => void): unknown
  destroy?(error?: Error): unknown
  readonly writableNeedDrain?: boolean
  readonly writableFinished?: boolean
}

/** Resolves on `event`; rejects on `error` or on `close` first. Removes its listeners either way. */
function until(writable: NodeWritableLike, event: 'drain' | 'finish', where: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      writable.removeListener(event, onEvent)
      writable.removeListener('error', onError)
      writable.removeListener('close', onClose)
    }
    const onEvent = (): void => {
      cleanup()
      resolve()
    }
    const onError = (err: unknown): void => {
      cleanup()
      reject(err instanceof Error ? err : new Error(`${where}: the stream failed: ${String(err)}`))
    }
    const onClose = (): void => {
      cleanup()
      reject(new Error(`${where}: the stream closed before ${event}`))
    }
    writable.once(event, onEvent)
    writable.once('error', onError)
    writable.once('close', onClose)
  })
}

/**
 * A sink that ends an it-pipe (or consumes any frame iterable): writes the selected frames (default: data frames),
 * encoded by `encode`, to a Node.js `Writable`. When `write()` returns false it waits for `drain`, so a slow stream
 * slows the pipeline. While it waits it reads one frame ahead: an interruption (`startInterruption`) drops the frame
 * waiting for room (stale speech is not written) and calls `onInterruption` (e.g. to clear the device's own buffer).
 * At the end of the source it calls `end()` and resolves on `finish` (`close: false` leaves the stream open); if the
 * source fails the stream is destroyed and the returned promise rejects with the source's error.
 *
 * @example
 * ```ts
 * import { Writable } from 'node:stream'
 * import { pipe } from 'it-pipe'
 * import { Frames, pipeline, toNodeWritable } from 'apipeline-ts'
 *
 * const speaker = new Writable({ highWaterMark: 4, write: (chunk, _enc, done) => setTimeout(done, 1) })
 * await pipe(
 *   [Frames.audioRaw({ audio: new Uint8Array(640) })],
 *   pipeline(async function* (source) { yield* source }),
 *   toNodeWritable(speaker, { encode: (f) => (f.type === 'audioRaw' ? f.audio : new Uint8Array(0)) }),
 * )
 * ```
 */
export function toNodeWritable(
  writable: NodeWritableLike,
  options: StreamSinkOptions = {},
): (source: AsyncIterable<Frame> | Iterable<Frame>) => Promise<void> {
  if (
    writable === null ||
    typeof writable !== 'object' ||
    typeof writable.write !== 'function' ||
    typeof writable.end !== 'function' ||
    typeof writable.once !== 'function' ||
    typeof writable.removeListener !== 'function'
  ) {
    throw new TypeError('toNodeWritable(writable) needs a Node.js Writable (write, end, once, removeListener)')
  }
  const parsed = parseStreamSinkOptions('toNodeWritable', options)
  return (source) => {
    let full = false
    return writeFrames(
      source,
      {
        room: () => {
          const needDrain = writable.writableNeedDrain ?? full
          return needDrain ? until(writable, 'drain', 'toNodeWritable').then(() => void (full = false)) : undefined
        },
        write: (chunk) => {
          full = !writable.write(chunk)
        },
        close: () => {
          if (writable.writableFinished === true) return Promise.resolve()
          const finished = until(writable, 'finish', 'toNodeWritable')
          writable.end()
          return finished
        },
        // Destroyed without the error: an 'error' event nobody listens to would crash the process; the returned
        // promise carries the error.
        abort: () => {
          writable.destroy?.()
        },
      },
      parsed,
    )
  }
}
