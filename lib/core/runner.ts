/**
 * `PipelineRunner`: runs tasks and cancels them all on SIGINT/SIGTERM.
 * @module
 */
import type { PipelineTask, TaskResult } from './task.js'

/** Options of {@link PipelineRunner}. */
export interface PipelineRunnerOptions {
  /** Install SIGINT/SIGTERM handlers while tasks run (Node only). Default true. */
  readonly handleSignals?: boolean
  /** Display name. */
  readonly name?: string
}

type SignalName = 'SIGINT' | 'SIGTERM'
interface ProcessLike {
  on(event: SignalName, listener: () => void): unknown
  off(event: SignalName, listener: () => void): unknown
}

function nodeProcess(): ProcessLike | undefined {
  const p = (globalThis as { process?: Partial<ProcessLike> }).process
  return p !== undefined && typeof p.on === 'function' && typeof p.off === 'function' ? (p as ProcessLike) : undefined
}

let runnerCount = 0

/**
 * Runs tasks. With `handleSignals` (default), the first SIGINT or SIGTERM cancels every running task; the handlers
 * are installed only while tasks run and removed right after the signal, so the process can exit (and a second
 * signal gets the default behaviour).
 *
 * @example
 * ```ts
 * const runner = new PipelineRunner()
 * const task = new PipelineTask(myPipeline)
 * task.stopWhenDone()
 * const result = await runner.run(task) // Ctrl-C cancels it
 * ```
 */
export class PipelineRunner {
  readonly name: string
  private readonly handleSignals: boolean
  private readonly tasks = new Set<PipelineTask>()
  private installed = false
  private readonly onSignal = (): void => {
    this.uninstall()
    void this.cancel()
  }

  constructor(options: PipelineRunnerOptions = {}) {
    this.name = options.name ?? `PipelineRunner#${runnerCount++}`
    this.handleSignals = options.handleSignals ?? true
  }

  /** Runs `task` to its end and resolves with its result. */
  async run(task: PipelineTask): Promise<TaskResult> {
    this.tasks.add(task)
    this.install()
    try {
      return await task.run()
    } finally {
      this.tasks.delete(task)
      if (this.tasks.size === 0) this.uninstall()
    }
  }

  /** The tasks currently running. */
  get running(): readonly PipelineTask[] {
    return [...this.tasks]
  }

  /** Queues `end` on every running task. */
  stopWhenDone(): void {
    for (const task of this.tasks) task.stopWhenDone()
  }

  /** Cancels every running task; resolves when they have finished. */
  async cancel(): Promise<void> {
    await Promise.all([...this.tasks].map((task) => task.cancel()))
  }

  private install(): void {
    if (!this.handleSignals || this.installed) return
    const p = nodeProcess()
    if (p === undefined) return
    p.on('SIGINT', this.onSignal)
    p.on('SIGTERM', this.onSignal)
    this.installed = true
  }

  private uninstall(): void {
    if (!this.installed) return
    const p = nodeProcess()
    p?.off('SIGINT', this.onSignal)
    p?.off('SIGTERM', this.onSignal)
    this.installed = false
  }
}
