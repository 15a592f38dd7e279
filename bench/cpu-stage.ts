/**
 * The synthetic CPU-bound stage of the WORKER benchmark (`bench/worker.ts`): a fixed amount of filtering over each audio frame,
 * the same code on the main thread (`cpuWork`) and in worker threads (the handler `cpuStage`).
 *
 * The amount is set by `APIPELINE_BENCH_CPU_PASSES` (passes over the samples; the bench calibrates it to ~200 µs per
 * frame on the main thread before it starts the threads, which inherit the environment).
 */
import type { Frame } from '../lib/frames/types.js'

/**
 * Runs `passes` passes of a one-pole low-pass filter over the 16-bit samples of `audio`, in place; returns a checksum.
 * Deterministic work, no allocation: the time is proportional to `passes × samples`.
 */
export function cpuWork(audio: Uint8Array, passes: number): number {
  const samples = new Int16Array(audio.buffer, audio.byteOffset, audio.byteLength >> 1)
  let checksum = 0
  for (let p = 0; p < passes; p++) {
    let y = 0
    for (let i = 0; i < samples.length; i++) {
      y += ((samples[i] as number) - y) * 0.25
      samples[i] = y | 0
      checksum = (checksum + (y | 0)) | 0
    }
  }
  return checksum
}

const passes = Number(process.env.APIPELINE_BENCH_CPU_PASSES ?? 1)

/** The worker handler: filters an audio frame in place and passes it on (its identity kept). */
export function cpuStage(frame: Frame): Frame {
  if (frame.kind === 'data' && frame.type === 'audioRaw') cpuWork(frame.audio, passes)
  return frame
}

/** The worker handler with no work: what crossing to a thread and back costs per frame. */
export const passThrough = (frame: Frame): Frame => frame
