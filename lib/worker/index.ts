/**
 * `apipeline-ts/worker`: stages whose per-frame work runs on worker threads (Node only: `node:worker_threads`, which
 * the main entry point never loads; no dependency).
 *
 * @example
 * ```ts
 * import { pipeline } from 'apipeline-ts'
 * import { inWorker } from 'apipeline-ts/worker'
 *
 * // resample.js exports `resample(frame)`: CPU-bound work, off the event loop, on two threads.
 * const stage = inWorker(new URL('./resample.js', import.meta.url), 'resample', { threads: 2 })
 * const bot = pipeline(stage, vad, stt)
 * ```
 * @module
 */
export { inWorker, type InWorkerOptions, type WorkerHandler, type WorkerResult } from './in-worker.js'
export { WorkerError, WorkerModuleError } from './errors.js'
