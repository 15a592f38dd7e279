/**
 * A frame handed to a stage's read loop just before an interruption, taken into the stage just after it: the frame
 * answers the interrupted turn and must not reach the sink. The interruption is fired from the stage upstream, a given
 * number of microtask hops after it hands the frame over, so a sweep over the hops crosses the window between the
 * hand-over and the moment the read loop resumes, whatever its exact length.
 */
import { Frames, PipelineTask, isInterruptionReport, pipeline, type InterruptionReport, type Processor } from '../../lib/index.js'

/** What one run saw: the texts received (with whether the interruption had come), and the interruption reports. */
export interface InTransitRun {
  readonly received: readonly { readonly text: string; readonly afterInterruption: boolean }[]
  readonly reports: readonly InterruptionReport[]
  readonly hops: number
}

/** What {@link inTransitVerdict} gives for a correct run. */
export const IN_TRANSIT_OK = { reports: 1, before: 'once', stale: 'once', fresh: 'received, not in the report' } as const

/**
 * The interrupted turn's report lists each of its frames once: delivered when the sink received it, dropped when not
 * (a frame taken into the stage after the interruption and emitted is received yet not listed). `fresh`, of the next
 * turn, is received and not listed. Compare with `{ ...IN_TRANSIT_OK, hops }`.
 */
export function inTransitVerdict(run: InTransitRun): Record<string, unknown> {
  const report = run.reports[0]
  const received = (text: string): boolean => run.received.some((r) => r.text === text)
  const listed = (text: string): string => {
    const delivered = report?.delivered.some((e) => e.text === text) ?? false
    const dropped = report?.dropped.some((e) => e.text === text) ?? false
    if (delivered && dropped) return 'listed twice'
    if (received(text)) return delivered ? 'once' : 'received but not listed delivered'
    return dropped ? 'once' : 'lost without being listed dropped'
  }
  const fresh = run.received.filter((r) => r.text === 'fresh').length === 1 && !(report?.delivered.some((e) => e.text === 'fresh') ?? false)
  return { hops: run.hops, reports: run.reports.length, before: listed('before'), stale: listed('stale'), fresh: fresh ? IN_TRANSIT_OK.fresh : 'missing or listed' }
}

/**
 * Runs `pass → stage` with the frames `before` and `stale`, the interruption fired `hops` microtasks after `pass` hands
 * `stale` over, then (once the interruption came) `fresh`.
 */
export async function interruptInTransit(stage: Processor, hops: number): Promise<InTransitRun> {
  let fire: () => void = () => undefined
  let interrupted = false
  const fired = new Promise<void>((resolve) => {
    fire = resolve
  })
  const pass: Processor = async function* pass(source) {
    for await (const f of source) {
      if (f.kind === 'data' && f.type === 'text' && f.text === 'stale') {
        let hop = Promise.resolve()
        for (let k = 0; k < hops; k++) hop = hop.then(() => undefined)
        void hop.then(fire)
      }
      yield f
    }
  }
  const reports: InterruptionReport[] = []
  const task = new PipelineTask(pipeline(pass, stage), {
    allowInterruptions: true,
    onUpstream: (f) => {
      if (isInterruptionReport(f)) reports.push(f.data)
    },
  })
  void fired.then(() => {
    interrupted = task.interrupt()
  })
  const received: { text: string; afterInterruption: boolean }[] = []
  const output = task.frames()
  const reading = (async () => {
    for await (const f of output) if (f.kind === 'data' && f.type === 'text') received.push({ text: f.text, afterInterruption: interrupted })
  })()
  const running = task.run()
  await task.queueFrame(Frames.text('before'))
  await task.queueFrame(Frames.text('stale'))
  await fired
  await task.queueFrame(Frames.text('fresh'))
  task.stopWhenDone()
  const result = await running
  await reading
  if (result.status !== 'ended') throw new Error(`the run ended as ${result.status}`)
  return { received, reports, hops }
}
