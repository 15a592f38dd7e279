/**
 * The worker's side of load-aware placement: publishes its {@link LoadReport} on the service's load subject when it
 * starts, on every change (coalesced), every `every` ms, and a last one when it stops; answers callers' probes.
 * @module
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { REPORT_GAP_MS, encodeLoadReport, loadSubject, probeSubject, type LoadReport } from './load-report.js'

/**
 * Publishes the reports of one service.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * let sessions = 0
 * const reporter = new LoadReporter(nc, 'bot', 1000, () => ({ v: 1, id: 'w1', open: 'bot._open.w1', state: 'serving', sessions, max: 10, frames: 0, started: sessions, every: 1000 }))
 * sessions++
 * reporter.changed()
 * reporter.stop()
 * ```
 */
export class LoadReporter {
  private readonly probe: Subscription | undefined
  private readonly timer: ReturnType<typeof setInterval>
  private pending: ReturnType<typeof setTimeout> | undefined
  private lastSent = 0
  private stopped = false

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    every: number,
    private readonly snapshot: () => LoadReport,
  ) {
    try {
      this.probe = nc.subscribe(probeSubject(subject), {
        callback: (err, msg) => {
          if (err !== null || this.stopped || msg.reply === undefined || msg.reply === '') return
          try {
            msg.respond(encodeLoadReport(this.snapshot()))
          } catch {
            // The connection is closing: the caller's probe times out and its sessions use the queue group.
          }
        },
      })
    } catch {
      this.probe = undefined
    }
    this.timer = setInterval(() => this.publish(), every)
    this.timer.unref?.()
    this.publish()
  }

  /** The load changed: a report goes out now, or {@link REPORT_GAP_MS} after the previous one. */
  changed(): void {
    if (this.stopped || this.pending !== undefined) return
    const wait = this.lastSent + REPORT_GAP_MS - performance.now()
    if (wait <= 0) {
      this.publish()
      return
    }
    this.pending = setTimeout(() => {
      this.pending = undefined
      this.publish()
    }, wait)
  }

  /** Sends the last report (its state should say `closed`) and stops. Idempotent. */
  stop(): void {
    if (this.stopped) return
    this.publish()
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.pending)
    try {
      this.probe?.unsubscribe()
    } catch {
      // The connection is already closed.
    }
  }

  private publish(): void {
    if (this.stopped || this.nc.isClosed()) return
    this.lastSent = performance.now()
    try {
      this.nc.publish(loadSubject(this.subject), encodeLoadReport(this.snapshot()))
    } catch {
      // The connection is closing; callers expire this worker's entry after a few periods.
    }
  }
}
