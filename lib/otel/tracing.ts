/**
 * `openTelemetry()`: an observer that turns each task into a trace — a span per session, a child span per turn and,
 * under it, spans for each processor's processing time and TTFB — and runs each task's work in its own context.
 * @module
 */
import { SpanStatusCode, context as otelContext, trace, type Span, type Tracer } from '@opentelemetry/api'
import { describe } from '../observe/describe.js'
import type { EventBatch, ObservedTask, ObserverEvent, ObserverObject } from '../observe/events.js'
import { TurnTracker, type SessionCounts, type TurnOptions, type TurnReport } from '../observe/turns.js'
import { enterSession, newSession, type ActiveSession } from './session-context.js'

/**
 * Options of {@link openTelemetry}.
 * @example
 * ```ts
 * import { trace } from '@opentelemetry/api'
 * import { openTelemetry, type OpenTelemetryOptions } from 'apipeline-ts/otel'
 * const options: OpenTelemetryOptions = { tracer: trace.getTracer('bot'), processor: bot }
 * openTelemetry(options)
 * ```
 */
export interface OpenTelemetryOptions extends TurnOptions {
  /** The tracer. Default `trace.getTracer('apipeline-ts')` (the global tracer provider). */
  readonly tracer?: Tracer
  /** Observer name. Default `opentelemetry`. */
  readonly name?: string
  /** Queue capacity of the observer. Default 16384. */
  readonly capacity?: number
  /**
   * With no OpenTelemetry context manager registered: carry each task's session into its processors' code in an
   * AsyncLocalStorage of the integration, so that `activeSession()` and `sessionContext()` find it there. On Node 20 an
   * enabled AsyncLocalStorage runs a hook on every promise of the process (about 2x the CPU time of a trivial
   * pipeline), paid while a traced task runs. Default false: the spans of the integration are parented explicitly and
   * need no context. With a context manager registered (the Node SDK registers one) the session travels in the
   * OpenTelemetry context, whatever this says.
   */
  readonly storage?: boolean
  /**
   * Per-processor spans (`apipeline.processing …`, `apipeline.ttfb …`) and frame counts. Default true. (A session
   * whose span the tracer does not record — dropped by its sampler, or no SDK registered — costs only its lifecycle
   * events, whatever this says, when the observer is given with the `observe` option.) With false, the
   * observer selects only the frames entering and leaving the task (`at: ['input', 'output']`): the stages are not
   * tapped at all, and the trace keeps the session and turn spans (TTFB, total, interrupted) and the frames in and out.
   */
  readonly perProcessor?: boolean
}

/**
 * The observer returned by {@link openTelemetry}.
 * @example
 * ```ts
 * import { trace } from '@opentelemetry/api'
 *
 * const otel = openTelemetry({ tracer: trace.getTracer('voice-bot') })
 * new PipelineTask(bot, { observe: otel })
 * otel.openSessions() // 1 while the task runs
 * ```
 */
export interface OpenTelemetryObserver extends ObserverObject {
  /** Sessions whose span is still open. */
  openSessions(): number
}

interface SessionSpans {
  readonly session: ActiveSession
  /** Ends the session context of the task's work (see `runTask`). */
  leave: () => void
  interruptions: number
}

/** `performance.now()` ms → epoch ms, as OpenTelemetry takes times. */
const epoch = (time: number): number => performance.timeOrigin + time

/**
 * An observer that traces tasks with OpenTelemetry (`@opentelemetry/api`; bring your SDK):
 *
 * - a **session span** (`apipeline.session`) per task, from its start to its end, with the status (`ERROR` with the
 *   message for an `'errored'` task), the frames in and out, an event per interruption, and the frames each
 *   processor emitted as `apipeline.frames.<processor>` attributes;
 * - a **turn span** (`apipeline.turn`) per turn (see `latencyBreakdown`), child of the session span, with the
 *   TTFB and total time, whether it was interrupted, and the input frame;
 * - per processor that produced output in the turn, a **processing span** (`apipeline.processing <processor>`) child
 *   of the turn span, and under it a **TTFB span** (`apipeline.ttfb <processor>`).
 *
 * Each task's work runs in its own context when the observer is given with the `observe` option: with a context
 * manager registered, inside processors `context.active()` and {@link sessionContext} give the task's session span,
 * so spans created there join the right trace even with many sessions running at once; without one, the same with
 * `storage: true` (an AsyncLocalStorage of the integration; see {@link OpenTelemetryOptions.storage}). The spans of
 * the integration itself are parented explicitly and need neither.
 *
 * @example
 * ```ts
 * import { PipelineTask } from 'apipeline-ts'
 * import { openTelemetry } from 'apipeline-ts/otel'
 * import { trace } from '@opentelemetry/api'
 *
 * const userId = 'alice'
 * const otel = openTelemetry({ tracer: trace.getTracer('voice-bot'), processor: bot })
 * // one observer for every session: each task gets its own trace
 * const task = new PipelineTask(bot, { observe: otel, name: `session-${userId}` })
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetryObserver {
  if (options === null || typeof options !== 'object') throw new TypeError('openTelemetry(options) must be an object')
  const tracer = options.tracer ?? trace.getTracer('apipeline-ts')
  if (typeof tracer.startSpan !== 'function') throw new TypeError('openTelemetry(options.tracer) must be an OpenTelemetry Tracer')
  if (options.storage !== undefined && typeof options.storage !== 'boolean') throw new TypeError('openTelemetry(options.storage) must be a boolean')
  const storage = options.storage === true
  if (options.perProcessor !== undefined && typeof options.perProcessor !== 'boolean') throw new TypeError('openTelemetry(options.perProcessor) must be a boolean')
  const perProcessor = options.perProcessor !== false
  const sessions = new Map<number, SessionSpans>()

  const open = (task: string, session: number, startTime: number): SessionSpans => {
    const existing = sessions.get(session)
    if (existing !== undefined) return existing
    const span = tracer.startSpan(
      'apipeline.session',
      { startTime, root: true, attributes: { 'apipeline.task': task, 'apipeline.session': session } },
      otelContext.active(),
    )
    const state: SessionSpans = {
      session: newSession(task, session, span, otelContext.active()),
      interruptions: 0,
      leave: () => {},
    }
    sessions.set(session, state)
    return state
  }

  const onTurn = (turn: TurnReport): void => {
    const s = sessions.get(turn.session)
    if (s === undefined) return
    const end = turn.total !== undefined ? turn.start + turn.total : turn.end
    const span = tracer.startSpan(
      'apipeline.turn',
      {
        startTime: epoch(turn.start),
        attributes: {
          'apipeline.turn': turn.index,
          'apipeline.turn.input': turn.input,
          'apipeline.turn.interrupted': turn.interrupted,
          'apipeline.turn.outputs': turn.outputs,
          ...(turn.ttfb === undefined ? {} : { 'apipeline.turn.ttfb_ms': turn.ttfb }),
          ...(turn.total === undefined ? {} : { 'apipeline.turn.total_ms': turn.total }),
        },
      },
      s.session.context,
    )
    const turnContext = trace.setSpan(s.session.context, span)
    for (const stage of turn.stages) {
      const ready = turn.start + stage.firstOutput - stage.ttfb
      const processing = tracer.startSpan(
        `apipeline.processing ${stage.processor}`,
        {
          startTime: epoch(ready),
          attributes: {
            'apipeline.processor': stage.processor,
            'apipeline.frames': stage.frames,
            'apipeline.ttfb_ms': stage.ttfb,
            'apipeline.processing_ms': stage.processing,
            ...(stage.reported?.ttfb === undefined ? {} : { 'apipeline.reported.ttfb_ms': stage.reported.ttfb }),
            ...(stage.reported?.processing === undefined ? {} : { 'apipeline.reported.processing_ms': stage.reported.processing }),
          },
        },
        turnContext,
      )
      tracer
        .startSpan(`apipeline.ttfb ${stage.processor}`, { startTime: epoch(ready), attributes: { 'apipeline.processor': stage.processor } }, trace.setSpan(turnContext, processing))
        .end(epoch(turn.start + stage.firstOutput))
      processing.end(epoch(turn.start + stage.lastOutput))
    }
    if (turn.interrupted) span.setStatus({ code: SpanStatusCode.UNSET, message: 'interrupted' })
    span.end(epoch(Math.max(end, turn.start)))
  }

  // Lifecycle events reach onLifecycle (declared below) in the tracker's pass over each batch.
  const tracker: TurnTracker = new TurnTracker(options, onTurn, options.processor === undefined ? undefined : describe(options.processor), (event) =>
    onLifecycle(event),
  )

  const close = (s: SessionSpans, event: Extract<ObserverEvent, { type: 'ended' }>, counts: SessionCounts | undefined): void => {
    const span: Span = s.session.span
    span.setAttributes({
      'apipeline.status': event.status,
      'apipeline.frames.in': counts?.inputs ?? 0,
      'apipeline.frames.out': counts?.outputs ?? 0,
      'apipeline.interruptions': s.interruptions,
    })
    for (const [processor, n] of counts?.processors ?? []) span.setAttribute(`apipeline.frames.${processor}`, n)
    if (event.status === 'errored') span.setStatus({ code: SpanStatusCode.ERROR, message: event.error?.error ?? 'errored' })
    span.end(epoch(event.time))
    sessions.delete(event.session)
    s.leave()
  }

  const onLifecycle = (event: ObserverEvent): void => {
    switch (event.type) {
      case 'started':
        open(event.task, event.session, epoch(event.time))
        break
      case 'frame':
        break
      case 'interrupted': {
        const s = sessions.get(event.session)
        if (s === undefined) break
        s.interruptions++
        s.session.span.addEvent('apipeline.interruption', epoch(event.time))
        break
      }
      case 'ended':
        break
    }
    const counts = event.type === 'ended' ? tracker.counts(event.session) : undefined
    tracker.push(event)
    if (event.type === 'ended') {
      const s = sessions.get(event.session)
      if (s !== undefined) close(s, event, counts)
    }
  }

  /** Hands a batch (of one session) to the turn tracker, which also counts its frames and hands back lifecycle events in order. */
  const onEvents = (batch: EventBatch): void => tracker.pushBatch(batch)

  return {
    name: options.name ?? 'opentelemetry',
    ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
    ...(perProcessor ? {} : { at: ['input', 'output'] as const }),
    onEvents,
    runTask<T>(task: ObservedTask, run: () => T): T {
      const s = open(task.name, task.session, Date.now())
      // A session the tracer does not record (its sampler dropped it, or no SDK is registered): nothing of it would be
      // exported, so the observer takes only its lifecycle, and the task records no frame for it. Its context is
      // still carried, so that spans made in its processors follow the same sampling decision.
      if (!s.session.span.isRecording()) task.select({ at: [] })
      const entered = enterSession(s.session, run, storage)
      s.leave = entered.leave
      return entered.result
    },
    openSessions: () => sessions.size,
  }
}
