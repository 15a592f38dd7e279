/** Shared by the worker-stage specs: the fixture module, thread options, and a count of the threads started. */
import type { Processor } from '../../lib/index.js'
import { inWorker, type InWorkerOptions } from '../../lib/worker/index.js'
import { threadCounts } from '../../lib/worker/thread-pool.js'

/** The handlers of `fixtures/stages.ts`. */
export const FIXTURE = new URL('./fixtures/stages.ts', import.meta.url)

/** The threads import TypeScript (the library's thread code and the fixtures) through tsx. */
export const execArgv = ['--import', new URL('../../scripts/register-tsx.mjs', import.meta.url).href]

/** `inWorker` on a fixture handler, one thread unless told. */
export function fixtureStage(exportName: string, options: InWorkerOptions = {}): Processor {
  return inWorker(FIXTURE, exportName, { threads: 1, execArgv, ...options })
}

/** Counts the worker threads started from now on, and those of the process still running. */
export function trackThreads(): { started: () => number; running: () => number } {
  const base = threadCounts().started
  return { started: () => threadCounts().started - base, running: () => threadCounts().running }
}
