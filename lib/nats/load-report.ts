/**
 * Load reports: how busy a worker is, published by every worker serving a subject so that callers open each session
 * on the least busy one (see `placement.ts`) instead of wherever the queue group happens to put it.
 *
 * Subjects, for a service subject `S`:
 *
 * | subject | who listens | what travels |
 * |---|---|---|
 * | `S._load` | every caller of `S` | each worker's report: when it starts serving, on every change of its load (at most every {@link REPORT_GAP_MS}), every `every` ms, and when it stops |
 * | `S._probe` | every worker of `S` | a caller's request for the reports now; each worker answers with its report |
 * | `S._open.<worker id>` | one worker | open requests meant for that worker (the same request and reply as on `S` itself) |
 *
 * A report is a JSON object (version {@link LOAD_REPORT_VERSION}); anything else on these subjects is ignored by callers.
 * @module
 */
import { MalformedMessageError } from './errors.js'

/** Version of the load report; callers ignore reports of another version (their sessions go through the queue group). */
export const LOAD_REPORT_VERSION = 1

/** On-change reports of one worker are at least this far apart, in ms (a burst of opens costs one report). */
export const REPORT_GAP_MS = 20

/**
 * What a worker says about itself.
 * @example
 * ```ts
 * const report: LoadReport = { v: 1, id: 'w1', open: 'bot._open.w1', state: 'serving', sessions: 3, max: 1000, frames: 12, started: 57, every: 1000 }
 * ```
 */
export interface LoadReport {
  readonly v: number
  /** The worker's service id (`NatsService.id`). */
  readonly id: string
  /** Its direct subject: open requests sent there reach this worker only. */
  readonly open: string
  /** `serving` takes sessions; `draining` and `closed` take none (`closed` is its last report). */
  readonly state: 'serving' | 'draining' | 'closed'
  /** Sessions running now. */
  readonly sessions: number
  /** Its `maxSessions`. */
  readonly max: number
  /** Input frames received by its sessions and not yet taken by their pipelines. */
  readonly frames: number
  /** Sessions it has taken since it started (the accept reply carries the same count: see `OpenReply.started`). */
  readonly started: number
  /** It reports at least every this many ms while it serves. */
  readonly every: number
}

/**
 * The load subject of service subject `subject`.
 * @example
 * ```ts
 * loadSubject('bot') // 'bot._load'
 * ```
 */
export const loadSubject = (subject: string): string => `${subject}._load`

/**
 * The probe subject of service subject `subject`.
 * @example
 * ```ts
 * probeSubject('bot') // 'bot._probe'
 * ```
 */
export const probeSubject = (subject: string): string => `${subject}._probe`

/**
 * The direct subject of worker `id` serving `subject`.
 * @example
 * ```ts
 * directSubject('bot', 'w1') // 'bot._open.w1'
 * ```
 */
export const directSubject = (subject: string, id: string): string => `${subject}._open.${id}`

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Bytes of a report.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * const report: LoadReport = { v: 1, id: 'w1', open: 'bot._open.w1', state: 'serving', sessions: 0, max: 100, frames: 0, started: 0, every: 1000 }
 * nc.publish(loadSubject('bot'), encodeLoadReport(report))
 * ```
 */
export function encodeLoadReport(report: LoadReport): Uint8Array {
  return encoder.encode(JSON.stringify(report))
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isToken = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256 && !/[\s*>]/.test(v)

/**
 * Reads a report; anything else (not JSON, another version, a missing or ill-typed field, a direct subject that is
 * not `<subject>._open.<id>`) is a {@link MalformedMessageError}.
 * @example
 * ```ts
 * import { connect } from '@nats-io/transport-node'
 *
 * const nc = await connect({ servers: '127.0.0.1:4222' })
 * nc.subscribe(loadSubject('bot'), {
 *   callback: (_err, msg) => {
 *     const report = decodeLoadReport(msg.data, 'bot')
 *     console.log(`${report.id}: ${report.sessions}/${report.max} sessions`)
 *   },
 * })
 * ```
 */
export function decodeLoadReport(bytes: Uint8Array, subject: string): LoadReport {
  let o: unknown
  try {
    o = JSON.parse(decoder.decode(bytes))
  } catch (err) {
    throw new MalformedMessageError('load report: not JSON', { cause: err })
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new MalformedMessageError('load report: not a JSON object')
  const r = o as Record<string, unknown>
  if (r['v'] !== LOAD_REPORT_VERSION) throw new MalformedMessageError(`load report: version ${String(r['v'])}, this caller reads ${LOAD_REPORT_VERSION}`)
  if (!isToken(r['id']) || (r['id'] as string).includes('.')) throw new MalformedMessageError('load report: id must be a subject token')
  if (r['open'] !== directSubject(subject, r['id'] as string)) throw new MalformedMessageError(`load report: open must be "${directSubject(subject, r['id'] as string)}"`)
  if (r['state'] !== 'serving' && r['state'] !== 'draining' && r['state'] !== 'closed') throw new MalformedMessageError('load report: unknown state')
  for (const key of ['sessions', 'max', 'frames', 'started', 'every'] as const) {
    if (!isCount(r[key])) throw new MalformedMessageError(`load report: ${key} must be an integer >= 0`)
  }
  if ((r['every'] as number) < 1 || (r['max'] as number) < 1) throw new MalformedMessageError('load report: every and max must be >= 1')
  return {
    v: LOAD_REPORT_VERSION,
    id: r['id'] as string,
    open: r['open'] as string,
    state: r['state'],
    sessions: r['sessions'] as number,
    max: r['max'] as number,
    frames: r['frames'] as number,
    started: r['started'] as number,
    every: r['every'] as number,
  }
}
