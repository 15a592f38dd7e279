/**
 * The interruption epoch in which a source handed over the frame read from it last.
 * @module
 */

/**
 * The interruption epoch in which `source` handed over the frame last read from it, as a stage's source view records
 * it at the moment of the hand-over; `undefined` for a source that does not record it.
 *
 * A processor that reads its source in a loop of its own (a pump, a fan-out) resumes after the hand-over, on a later
 * job: an interruption can come in between. The frame was then on its way, so the interruption could not drop it from
 * the processor's queues, yet it belongs to the interrupted turn: compared with the run's current epoch, this tells.
 */
export function readEpochOf(source: unknown): number | undefined {
  const epoch = (source as { readEpoch?: unknown } | null | undefined)?.readEpoch
  return typeof epoch === 'number' ? epoch : undefined
}
