/**
 * Turn tracking: cuts a session's observed frames into turns — from an input frame that starts one to the next such
 * input (or the end of the task) — and measures, per turn, the time to the first and last output at the sink and
 * the time every processor took. Shared by the latency breakdown and the OpenTelemetry integration.
 * @module
 */
import type { ProcessorFn } from '../core/processor.js'
import type { Frame, MetricsFrame } from '../frames/types.js'
import { GRAPH_INPUT, type PipelineGraph } from './describe.js'
import { LogBatch } from './event-batch.js'
import { eventCode } from './event-filter.js'
import { LIFECYCLE } from './event-log.js'
import type { EventBatch, ObserverEvent } from './events.js'

const INPUT = eventCode('down', 'input')
const OUTPUT = eventCode('down', 'output')
const DOWN = eventCode('down', 'processor')

/**
 * The time one processor took in one turn (ms).
 * @example
 * ```ts
 * import type { StageLatency } from 'apipeline-ts'
 * const slowest = (stages: StageLatency[]) => [...stages].sort((a, b) => b.processing - a.processing)[0]
 * ```
 */
export interface StageLatency {
  /** The processor's path below the task (`llm`, `fan/branch1/tts`). */
  readonly processor: string
  /** From when its input for this turn was available (its predecessor's first output, or the turn's start) to its first output. */
  readonly ttfb: number
  /** From when its input was available to its last output of the turn. */
  readonly processing: number
  /** Its first output, from the turn's start. */
  readonly firstOutput: number
  /** Its last output, from the turn's start. */
  readonly lastOutput: number
  /** Output frames it produced in the turn. */
  readonly frames: number
  /** What the processor itself reported in `metrics` frames during the turn (`measured()`, `ctx.metrics`), in ms. */
  readonly reported?: { readonly ttfb?: number; readonly processing?: number }
}

/**
 * One turn of a session.
 * @example
 * ```ts
 * import type { TurnReport } from 'apipeline-ts'
 * const line = (t: TurnReport) => `turn ${t.index}: ${t.interrupted ? 'interrupted' : `${t.ttfb?.toFixed(0)} ms to first output`}`
 * ```
 */
export interface TurnReport {
  readonly task: string
  readonly session: number
  /** 0, 1, 2 … within the session. */
  readonly index: number
  /** The name of the input frame that started the turn. */
  readonly input: string
  /** When the input was accepted (ms, `performance.now()` clock). */
  readonly start: number
  /** When the turn ended: the next turn's input, or the end of the task (ms, same clock). */
  readonly end: number
  /** Input to the first output at the sink (ms); undefined when the turn was interrupted or produced nothing. */
  readonly ttfb: number | undefined
  /** Input to the last output at the sink (ms); undefined when the turn was interrupted or produced nothing. */
  readonly total: number | undefined
  /** Output frames that reached the sink during the turn. */
  readonly outputs: number
  /** True when an interruption (or the task being cancelled, stopped or failing) cut the turn. */
  readonly interrupted: boolean
  /** Per processor that produced output in the turn, in pipeline order (or in order of first output). */
  readonly stages: readonly StageLatency[]
}

/**
 * Options of turn tracking.
 * @example
 * ```ts
 * import { latencyBreakdown, type TurnOptions } from 'apipeline-ts'
 * const turns: TurnOptions = { isTurnStart: (f) => f.kind === 'app' && f.type === 'userStoppedSpeaking' }
 * latencyBreakdown(turns)
 * ```
 */
export interface TurnOptions {
  /** Which input frames start a turn. Default: data and app frames. */
  readonly isTurnStart?: (frame: Frame) => boolean
  /** Which frames count as output (at the sink and for each processor). Default: data and app frames. */
  readonly isOutput?: (frame: Frame) => boolean
  /**
   * The processor being run (as given to the task), to time each processor from its predecessor's first output.
   * Without it, the predecessor is the processor whose first output came just before.
   */
  readonly processor?: ProcessorFn<any, any>
}

const isContent = (frame: Frame): boolean => frame.kind === 'data' || frame.kind === 'app'

interface StageState {
  first: number
  last: number
  frames: number
  ttfb?: number
  processing?: number
}

interface OpenTurn {
  index: number
  input: string
  start: number
  firstOut: number | undefined
  lastOut: number | undefined
  outputs: number
  interrupted: boolean
  stages: Map<string, StageState>
  metricsSeen: Set<number>
}

/** A processor of a session, by its full name: its path below the task, and its state in the open turn. */
interface ProcessorEntry {
  readonly path: string
  /** False when the graph is known and the processor is not a leaf of it (its frames are not counted). */
  readonly tracked: boolean
  /** The open turn `state` belongs to. */
  turn: OpenTurn | undefined
  state: StageState | undefined
  /** Frames that left it (both directions) since the session started. */
  frames: number
}

/**
 * The frames of a session so far: accepted as input, handed to the reader, and leaving each processor (by path below
 * the task, both directions).
 * @example
 * ```ts
 * import type { SessionCounts } from './turns.js'
 * const busiest = (c: SessionCounts) => [...c.processors].sort((a, b) => b[1] - a[1])[0]?.[0]
 * ```
 */
export interface SessionCounts {
  readonly inputs: number
  readonly outputs: number
  readonly processors: ReadonlyMap<string, number>
}

interface SessionState {
  task: string
  prefix: string
  /** The processors met so far, by full name. */
  readonly names: Map<string, ProcessorEntry>
  turns: number
  open: OpenTurn | undefined
  inputs: number
  outputs: number
}

/** Cuts the events of any number of sessions into turns; calls `onTurn` as each turn ends. */
export class TurnTracker {
  private readonly sessions = new Map<number, SessionState>()
  private readonly isTurnStart: (frame: Frame) => boolean
  private readonly isOutput: (frame: Frame) => boolean
  private readonly predecessors: Map<string, readonly string[]> | undefined
  private readonly order: Map<string, number> | undefined

  constructor(
    options: TurnOptions,
    private readonly onTurn: (turn: TurnReport) => void,
    graph?: PipelineGraph,
    /**
     * Receives the lifecycle events met in batches instead of the tracker, which it must then be given with
     * {@link TurnTracker.push} (so an observer reacts to them in the same pass over a batch).
     */
    private readonly onLifecycle?: (event: ObserverEvent) => void,
  ) {
    this.isTurnStart = options.isTurnStart ?? isContent
    this.isOutput = options.isOutput ?? isContent
    if (graph !== undefined) {
      const preds = new Map<string, string[]>()
      for (const e of graph.edges()) {
        if (e.from === GRAPH_INPUT) continue
        const list = preds.get(e.to) ?? []
        list.push(e.from)
        preds.set(e.to, list)
      }
      this.predecessors = preds
      this.order = new Map(graph.leaves().map((n, i) => [n.path, i]))
    }
  }

  /** Feeds one observed event. */
  push(event: ObserverEvent): void {
    switch (event.type) {
      case 'started':
        this.sessions.set(event.session, { task: event.task, prefix: `${event.task}/`, names: new Map(), turns: 0, open: undefined, inputs: 0, outputs: 0 })
        return
      case 'interrupted': {
        const open = this.sessions.get(event.session)?.open
        if (open !== undefined) open.interrupted = true
        return
      }
      case 'ended': {
        const s = this.sessions.get(event.session)
        if (s === undefined) return
        if (s.open !== undefined && event.status !== 'ended') s.open.interrupted = true
        this.close(event.session, s, event.time)
        this.sessions.delete(event.session)
        return
      }
      case 'frame': {
        const s = this.sessions.get(event.session)
        if (s !== undefined) this.onFrame(event.session, s, event.frame, event.processor, eventCode(event.direction, event.at), { timeAt: () => event.time }, 0)
        return
      }
    }
  }

  /** Feeds events `from` to `to` of a batch (of one session), reading frame events without making event objects. */
  pushBatch(batch: EventBatch, from = 0, to = batch.length): void {
    const session = batch.session
    let s = this.sessions.get(session)
    if (batch instanceof LogBatch) {
      // The batch of the library: read the log's columns directly.
      const log = batch.log
      for (let i = from; i < to; i++) {
        const n = batch.position(i)
        const code = log.codeAt(n)
        if (code === LIFECYCLE) {
          this.lifecycle(log.read(n))
          s = this.sessions.get(session)
        } else if (s !== undefined) this.onFrame(session, s, log.frameAt(n), log.processorAt(n), code, log, n)
      }
      return
    }
    for (let i = from; i < to; i++) {
      if (batch.type(i) !== 'frame') {
        this.lifecycle(batch.event(i))
        s = this.sessions.get(session)
      } else if (s !== undefined) this.onFrame(session, s, batch.frame(i), batch.processor(i), eventCode(batch.direction(i), batch.at(i)), { timeAt: () => batch.time(i) }, 0)
    }
  }

  private lifecycle(event: ObserverEvent): void {
    if (this.onLifecycle === undefined) this.push(event)
    else this.onLifecycle(event)
  }

  /** The frames of `session` so far (undefined once it has ended). */
  counts(session: number): SessionCounts | undefined {
    const s = this.sessions.get(session)
    if (s === undefined) return undefined
    const processors = new Map<string, number>()
    for (const entry of s.names.values()) processors.set(entry.path, (processors.get(entry.path) ?? 0) + entry.frames)
    return { inputs: s.inputs, outputs: s.outputs, processors }
  }

  /**
   * A frame event; `code` is its `eventCode` (direction and point); its time is `times.timeAt(n)`, read only when
   * needed (a time passed as an argument would be boxed for every event).
   */
  private onFrame(session: number, s: SessionState, frame: Frame, name: string, code: number, times: { timeAt(n: number): number }, n: number): void {
    if (code === INPUT) {
      s.inputs++
      if (!this.isTurnStart(frame)) return
      const time = times.timeAt(n)
      this.close(session, s, time)
      s.open = {
        index: s.turns++,
        input: frame.name,
        start: time,
        firstOut: undefined,
        lastOut: undefined,
        outputs: 0,
        interrupted: false,
        stages: new Map(),
        metricsSeen: new Set(),
      }
      return
    }
    if (code === OUTPUT) {
      s.outputs++
      const turn = s.open
      if (turn === undefined || !this.isOutput(frame)) return
      const time = times.timeAt(n)
      turn.firstOut ??= time
      turn.lastOut = time
      turn.outputs++
      return
    }
    let entry = s.names.get(name)
    if (entry === undefined) {
      const path = name.startsWith(s.prefix) ? name.slice(s.prefix.length) : name
      entry = { path, tracked: this.order === undefined || this.order.has(path), turn: undefined, state: undefined, frames: 0 }
      s.names.set(name, entry)
    }
    entry.frames++
    const turn = s.open
    if (turn === undefined || code !== DOWN || !entry.tracked) return
    if (frame.kind === 'system' && frame.type === 'metrics') {
      this.onMetrics(turn, frame)
      return
    }
    if (!this.isOutput(frame)) return
    const time = times.timeAt(n)
    let stage = entry.turn === turn ? entry.state : undefined
    if (stage === undefined) {
      stage = turn.stages.get(entry.path)
      if (stage === undefined) {
        stage = { first: time, last: time, frames: 0 }
        turn.stages.set(entry.path, stage)
      }
      entry.turn = turn
      entry.state = stage
    }
    if (stage.frames === 0) stage.first = time
    stage.last = time
    stage.frames++
  }

  private onMetrics(turn: OpenTurn, frame: MetricsFrame): void {
    if (turn.metricsSeen.has(frame.id)) return
    turn.metricsSeen.add(frame.id)
    const note = (list: readonly { processor: string; value: number }[] | undefined, key: 'ttfb' | 'processing'): void => {
      for (const { processor, value } of list ?? []) {
        if (value <= 0) continue
        const path = this.relative(processor)
        const stage = turn.stages.get(path) ?? { first: Number.NaN, last: Number.NaN, frames: 0 }
        stage[key] = value * 1000
        turn.stages.set(path, stage)
      }
    }
    note(frame.ttfb, 'ttfb')
    note(frame.processing, 'processing')
  }

  /** A metrics frame names processors by their full path: drop the task's name. */
  private relative(processor: string): string {
    for (const s of this.sessions.values()) if (processor.startsWith(s.prefix)) return processor.slice(s.prefix.length)
    return processor
  }

  private close(session: number, s: SessionState, time: number): void {
    const turn = s.open
    if (turn === undefined) return
    s.open = undefined
    const counted = !turn.interrupted && turn.firstOut !== undefined
    const entries = [...turn.stages.entries()].filter(([, st]) => st.frames > 0 || st.ttfb !== undefined || st.processing !== undefined)
    const byFirst = entries.filter(([, st]) => st.frames > 0).sort((a, b) => (this.rank(a) - this.rank(b)) || a[1].first - b[1].first)
    const stages: StageLatency[] = []
    let previousFirst = turn.start
    for (const [processor, st] of byFirst) {
      const ready = this.readyAt(processor, turn, previousFirst)
      const reported = st.ttfb === undefined && st.processing === undefined ? undefined : { ...(st.ttfb === undefined ? {} : { ttfb: st.ttfb }), ...(st.processing === undefined ? {} : { processing: st.processing }) }
      const base = {
        processor,
        ttfb: Math.max(0, st.first - ready),
        processing: Math.max(0, st.last - ready),
        firstOutput: st.first - turn.start,
        lastOutput: st.last - turn.start,
        frames: st.frames,
      }
      stages.push(reported === undefined ? base : { ...base, reported })
      previousFirst = st.first
    }
    this.onTurn({
      task: s.task,
      session,
      index: turn.index,
      input: turn.input,
      start: turn.start,
      end: time,
      ttfb: counted ? (turn.firstOut as number) - turn.start : undefined,
      total: counted ? (turn.lastOut as number) - turn.start : undefined,
      outputs: turn.outputs,
      interrupted: turn.interrupted,
      stages,
    })
  }

  private rank([processor]: [string, StageState]): number {
    return this.order?.get(processor) ?? 0
  }

  /** When `processor`'s input for the turn was available: its predecessors' first output (the latest), else `fallback`. */
  private readyAt(processor: string, turn: OpenTurn, fallback: number): number {
    if (this.predecessors === undefined) return fallback
    let ready = turn.start
    for (const p of this.predecessors.get(processor) ?? []) {
      const st = turn.stages.get(p)
      if (st !== undefined && st.frames > 0 && st.first > ready) ready = st.first
    }
    return ready
  }
}
