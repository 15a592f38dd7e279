/**
 * The caller's side of load-aware placement: a table of the live workers of one subject, kept from their load
 * reports (see `load-report.ts`), shared by every `remote()` of a connection for that subject. A session opens on
 * the worker with the fewest sessions, counting the sessions this caller just opened there and that no report shows
 * yet — so a burst of opens spreads evenly before any report comes back. Workers that stopped reporting (a few
 * periods), draining, closed or full ones are not chosen; with no worker in the table the open goes through the
 * queue group.
 * @module
 */
import { createInbox, type NatsConnection } from '@nats-io/transport-node'
import { decodeLoadReport, loadSubject, probeSubject, type LoadReport } from './load-report.js'
import { PerOwner } from '../internal/per-owner.js'

/** A report is dropped when its worker sent none for this many of its periods. */
const EXPIRY_PERIODS = 3
/** How long an open waits for the first answers to a new table's probe, at most, in ms. */
const PROBE_WAIT_MS = 250
/** Once a probe got a first answer, how long to wait for more after the last one, in ms. */
const PROBE_STALL_MS = 20

/**
 * A worker in the table.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const worker: PlacedWorker | undefined = workersOf(nc, 'bot').pick(new Set())
 * if (worker !== undefined) console.log(worker.report.open)
 * ```
 */
export interface PlacedWorker {
  /** Its latest report. */
  report: LoadReport
  /** When that report arrived (`performance.now()`). */
  at: number
  /** Open requests of this caller sent to it and not answered yet. */
  opening: number
  /** `started` numbers of the sessions it accepted from this caller that its latest report does not count yet. */
  unreported: number[]
  /** It refused an open (full, draining) since its latest report: not chosen until the next. */
  refused: boolean
}

/**
 * The live workers of one subject on one connection.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const table = workersOf(nc, 'bot')
 * await table.ready()
 * const worker = table.pick(new Set())
 * ```
 */
export class WorkerTable {
  private readonly workers = new Map<string, PlacedWorker>()
  private probing: Promise<void> | undefined
  private subscribed = false

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
  ) {}

  /** Workers in the table now (expired ones dropped). */
  get size(): number {
    this.expire()
    return this.workers.size
  }

  /**
   * Resolves once the table has heard from the workers: at once after the first call; the first call subscribes to
   * the reports and probes the workers, resolving when no worker serves the subject, once the answers stopped coming
   * for a moment, or after a short bounded wait.
   */
  ready(): Promise<void> {
    this.probing ??= this.probe()
    return this.probing
  }

  /** The least loaded worker not in `skip` that takes sessions, or undefined (then the queue group is used). */
  pick(skip: ReadonlySet<string>): PlacedWorker | undefined {
    this.expire()
    let best: PlacedWorker | undefined
    let bestLoad = Infinity
    let ties = 0
    for (const w of this.workers.values()) {
      const r = w.report
      if (r.state !== 'serving' || w.refused || skip.has(r.id)) continue
      const load = this.load(w)
      if (load >= r.max) continue
      if (load < bestLoad || (load === bestLoad && r.frames < (best as PlacedWorker).report.frames)) {
        best = w
        bestLoad = load
        ties = 1
      } else if (load === bestLoad && r.frames === (best as PlacedWorker).report.frames && Math.random() * ++ties < 1) {
        // Equal load: each of the tied workers equally likely.
        best = w
      }
    }
    return best
  }

  /** Sessions on `worker` as this caller knows them: its report, plus this caller's opens it does not count yet. */
  load(worker: PlacedWorker): number {
    return worker.report.sessions + worker.opening + worker.unreported.length
  }

  /** An open request is on its way to `worker`. */
  opening(worker: PlacedWorker): void {
    worker.opening++
  }

  /** `worker` answered (or failed) an open: `started` is its session count when it accepted, undefined otherwise. */
  answered(worker: PlacedWorker, started: number | undefined): void {
    worker.opening = Math.max(0, worker.opening - 1)
    if (started !== undefined && started > worker.report.started) worker.unreported.push(started)
  }

  /** `worker` refused an open (full or draining): not chosen again until it reports. */
  refused(worker: PlacedWorker): void {
    worker.refused = true
  }

  /** `worker` cannot be reached (no responders, no answer): dropped until it reports again. */
  unreachable(worker: PlacedWorker): void {
    if (this.workers.get(worker.report.id) === worker) this.workers.delete(worker.report.id)
  }

  /** Takes in one report (malformed ones are ignored: placement is an optimisation, the queue group still works). */
  private receive(data: Uint8Array): void {
    let report: LoadReport
    try {
      report = decodeLoadReport(data, this.subject)
    } catch {
      return
    }
    if (report.state === 'closed') {
      this.workers.delete(report.id)
      return
    }
    const known = this.workers.get(report.id)
    if (known === undefined) {
      this.workers.set(report.id, { report, at: performance.now(), opening: 0, unreported: [], refused: false })
      return
    }
    if (report.started < known.report.started) return // an older report overtaken by a newer one
    known.report = report
    known.at = performance.now()
    known.refused = false
    known.unreported = known.unreported.filter((n) => n > report.started)
  }

  private expire(): void {
    const t = performance.now()
    for (const [id, w] of this.workers) {
      if (t - w.at > EXPIRY_PERIODS * w.report.every) this.workers.delete(id)
    }
  }

  private probe(): Promise<void> {
    if (!this.subscribed) {
      this.subscribed = true
      try {
        this.nc.subscribe(loadSubject(this.subject), {
          callback: (err, msg) => {
            if (err === null) this.receive(msg.data)
          },
        })
      } catch {
        return Promise.resolve()
      }
    }
    return new Promise<void>((resolve) => {
      let stall: ReturnType<typeof setTimeout> | undefined
      let inbox: { unsubscribe(): void } | undefined
      const done = (): void => {
        clearTimeout(stall)
        clearTimeout(limit)
        try {
          inbox?.unsubscribe()
        } catch {
          // The connection is already closed.
        }
        resolve()
      }
      const limit = setTimeout(done, PROBE_WAIT_MS)
      try {
        const reply = createInbox()
        inbox = this.nc.subscribe(reply, {
          callback: (err, msg) => {
            // No worker serves the subject: the server answers at once with a "no responders" status and no data.
            if (err !== null || msg.data.byteLength === 0) {
              done()
              return
            }
            this.receive(msg.data)
            clearTimeout(stall)
            stall = setTimeout(done, PROBE_STALL_MS)
          },
        })
        this.nc.publish(probeSubject(this.subject), undefined, { reply })
      } catch {
        done()
      }
    })
  }
}

const tables = new PerOwner<NatsConnection, string, WorkerTable>()

/**
 * The worker table of `subject` on `nc` (one per connection and subject, shared by its `remote()` stages).
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const table = workersOf(nc, 'bot')
 * await table.ready()
 * console.log(`${table.size} workers report on "bot"`)
 * ```
 */
export function workersOf(nc: NatsConnection, subject: string): WorkerTable {
  const bySubject = tables.of(nc)
  let table = bySubject.get(subject)
  if (table === undefined) {
    table = new WorkerTable(nc, subject)
    bySubject.set(subject, table)
  }
  return table
}
