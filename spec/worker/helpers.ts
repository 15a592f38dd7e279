/** Shared by the worker-stage specs: the fixture module, thread options, and a record of the pools started. */
import { Piscina } from 'piscina'
import { vi } from 'vitest'
import type { Processor } from '../../lib/index.js'
import { inWorker, type InWorkerOptions } from '../../lib/worker/index.js'

/** The handlers of `fixtures/stages.ts`. */
export const FIXTURE = new URL('./fixtures/stages.ts', import.meta.url)

/** The threads import TypeScript (the library's thread code and the fixtures) through tsx. */
export const execArgv = ['--import', new URL('../../scripts/register-tsx.mjs', import.meta.url).href]

/** `inWorker` on a fixture handler, one thread unless told. */
export function fixtureStage(exportName: string, options: InWorkerOptions = {}): Processor {
  return inWorker(FIXTURE, exportName, { threads: 1, execArgv, ...options })
}

/** Records every piscina pool that runs a task, to check afterwards that its threads are gone. */
export function trackPools(): { pools: Set<Piscina>; liveThreads: () => number; restore: () => void } {
  const pools = new Set<Piscina>()
  const original = Piscina.prototype.run
  const spy = vi.spyOn(Piscina.prototype, 'run').mockImplementation(function (this: Piscina, ...args: Parameters<Piscina['run']>) {
    pools.add(this)
    return original.apply(this, args)
  })
  return {
    pools,
    liveThreads: () => [...pools].reduce((n, p) => n + p.threads.length, 0),
    restore: () => spy.mockRestore(),
  }
}
