/** Shared by the worker-stage specs: the fixture module, thread options, and a count of the threads started. */
import { Worker } from 'node:worker_threads'
import { vi } from 'vitest'
import { Frames, type Frame, type Processor } from '../../lib/index.js'
import { inWorker, type InWorkerOptions } from '../../lib/worker/index.js'
import { encodedCount, type EncodedFrames } from '../../lib/worker/batch-codec.js'
import { threadCounts } from '../../lib/worker/thread-pool.js'
import { ANNOUNCE_CHANNEL } from './fixtures/stages.js'

/** The handlers of `fixtures/stages.ts`. */
export const FIXTURE = new URL('./fixtures/stages.ts', import.meta.url)

/** The threads import TypeScript (the library's thread code and the fixtures) through tsx. */
export const execArgv = ['--import', new URL('../../scripts/register-tsx.mjs', import.meta.url).href]

/** `inWorker` on a fixture handler, one thread unless told. */
export function fixtureStage(exportName: string, options: InWorkerOptions = {}): Processor {
  return inWorker(FIXTURE, exportName, { threads: 1, execArgv, ...options })
}

/** Counts the worker threads started from now on, and those of the process still running. */
export function trackThreads(): { started: () => number; running: () => number } {
  const base = threadCounts().started
  return { started: () => threadCounts().started - base, running: () => threadCounts().running }
}

/** Records the batches the stages post to their threads (the number of frames in each message), until `restore()`. */
export function trackBatches(): { sizes: number[]; restore: () => void } {
  const sizes: number[] = []
  const original = Worker.prototype.postMessage
  const spy = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
    const message = args[0] as { seq?: unknown; head?: unknown } | null
    if (typeof message?.seq === 'number' && message.head instanceof ArrayBuffer) sizes.push(encodedCount(message as EncodedFrames))
    original.apply(this, args)
  })
  return { sizes, restore: () => spy.mockRestore() }
}

/** Collects the labels the `announced` fixture handler posts as it starts each frame, until `close()`. */
export function announcements(): { labels: string[]; seen: (label: string) => Promise<void>; close: () => void } {
  const labels: string[] = []
  const waiters: { label: string; resolve: () => void }[] = []
  const channel = new BroadcastChannel(ANNOUNCE_CHANNEL)
  channel.onmessage = (event: MessageEvent) => {
    labels.push(event.data as string)
    for (const w of waiters.filter((x) => x.label === event.data)) w.resolve()
  }
  return {
    labels,
    seen: (label) => (labels.includes(label) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ label, resolve }))),
    close: () => channel.close(),
  }
}

/** One frame of every built-in type (audio whole, as a view into a larger buffer, and empty) and an app frame. */
export function everyKind(): Frame[] {
  return [
    Frames.start({ allowInterruptions: true, audioOutSampleRate: 48000 }),
    Frames.end(),
    Frames.sync(),
    Frames.syncNotify(),
    Frames.cancel(),
    Frames.error('boom', { fatal: true, processor: 'p' }),
    Frames.stopTask(),
    Frames.interruptionTask(),
    Frames.startInterruption(),
    Frames.stopInterruption(),
    Frames.interruption(),
    Frames.metrics({ ttfb: [{ processor: 'llm', value: 0.5 }] }),
    Frames.text('hi'),
    Frames.audioRaw({ audio: new Uint8Array([1, 2, 3, 4]), sampleRate: 8000, numChannels: 2 }),
    Frames.audioRaw({ audio: new Uint8Array(new ArrayBuffer(16), 4, 6), sampleRate: 24000, sampleWidth: 1 }), // a view into a larger buffer
    Frames.audioRaw({ audio: new Uint8Array(0) }),
    Frames.imageRaw({ image: new Uint8Array([9]), size: [1, 1], format: 'raw', mode: 'L' }),
    Frames.app('transcript', { text: 'hi', final: true, words: ['hi'] }),
  ]
}
