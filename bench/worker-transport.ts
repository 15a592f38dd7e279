/**
 * The WORKER transport rows: what moving frames to a thread and back costs the calling thread, on piscina (one
 * `run()` per task) and on a bare `worker_threads` message port, with one frame per message and with batches of 8.
 * Each frame is a 640-byte audio record whose buffer is moved both ways; 16 frames are in flight at most; the thread
 * only sends them back. Reported: time per frame and the main thread's CPU per frame.
 */
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { BenchRow } from './harness.js'
import { mainThreadTimes, perFrameUs } from './thread-cpu.js'

const IN_FLIGHT = 16

interface AudioRecord {
  readonly kind: 'data'
  readonly type: 'audioRaw'
  readonly id: number
  readonly name: string
  readonly audio: Uint8Array
  readonly sampleRate: number
  readonly numChannels: number
  readonly sampleWidth: number
  readonly numFrames: number
}

const record = (i: number): AudioRecord => ({ kind: 'data', type: 'audioRaw', id: i, name: `AudioRawFrame#${i}`, audio: new Uint8Array(640), sampleRate: 16000, numChannels: 1, sampleWidth: 2, numFrames: 320 })

/** Sends `n` records in batches of `batch` through `send`, at most {@link IN_FLIGHT} in flight; settles when all are back. */
function pump(n: number, batch: number, send: (records: AudioRecord[], done: (back: number) => void) => void): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0
    let back = 0
    let inFlight = 0
    const more = (): void => {
      while (inFlight < IN_FLIGHT && sent < n) {
        const records: AudioRecord[] = []
        for (let k = 0; k < batch && sent < n && inFlight + records.length < IN_FLIGHT; k++) records.push(record(sent++))
        inFlight += records.length
        send(records, (count) => {
          back += count
          inFlight -= count
          if (back === n) resolve()
          else more()
        })
      }
    }
    more()
  })
}

interface Transport {
  readonly send: (records: AudioRecord[], done: (back: number) => void) => void
  readonly close: () => Promise<unknown>
}

async function piscina(execArgv: readonly string[]): Promise<Transport> {
  const pool = new Piscina({ filename: new URL('./echo-piscina.ts', import.meta.url).href, minThreads: 1, maxThreads: 1, recordTiming: false, execArgv: [...execArgv] })
  await pool.run([record(-1)])
  return {
    send: (records, done) => {
      void pool.run(records, { transferList: records.map((r) => r.audio.buffer as ArrayBuffer) }).then((back: AudioRecord[]) => done(back.length))
    },
    close: () => pool.destroy(),
  }
}

async function port(execArgv: readonly string[]): Promise<Transport> {
  const worker = new Worker(new URL('./echo-port.ts', import.meta.url), { execArgv: [...execArgv] })
  const waiting: ((back: number) => void)[] = []
  worker.on('message', (back: AudioRecord[]) => waiting.shift()?.(back.length))
  await new Promise<void>((resolve) => {
    waiting.push(() => resolve())
    worker.postMessage([record(-1)])
  })
  return {
    send: (records, done) => {
      waiting.push(done)
      worker.postMessage(records, records.map((r) => r.audio.buffer as ArrayBuffer))
    },
    close: () => worker.terminate(),
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** The transport rows: `n` frames per run, `reps` runs of each variant (interleaved), medians reported. */
export async function transportRows(n: number, reps: number, execArgv: readonly string[]): Promise<BenchRow[]> {
  const variants: Record<string, { open: () => Promise<Transport>; batch: number }> = {
    'transport: piscina run(), 1 frame per task': { open: () => piscina(execArgv), batch: 1 },
    'transport: piscina run(), 8 frames per task': { open: () => piscina(execArgv), batch: 8 },
    'transport: MessagePort, 1 frame per message': { open: () => port(execArgv), batch: 1 },
    'transport: MessagePort, 8 frames per message': { open: () => port(execArgv), batch: 8 },
  }
  const samples: Record<string, { ms: number; cpuUs: number }[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (let r = 0; r <= reps; r++) {
    for (const [name, { open, batch }] of Object.entries(variants)) {
      const transport = await open()
      try {
        const cpu0 = mainThreadTimes()
        const t0 = performance.now()
        await pump(n, batch, transport.send)
        const ms = performance.now() - t0
        const cpu1 = mainThreadTimes()
        // The first round warms up.
        if (r > 0) samples[name]?.push({ ms, cpuUs: perFrameUs(cpu0, cpu1, n).cpuUs })
      } finally {
        await transport.close()
      }
    }
  }
  const baseline = 'transport: piscina run(), 1 frame per task'
  return Object.keys(variants).map((name) => {
    const s = samples[name] ?? []
    const cpu = median(s.map((x) => x.cpuUs))
    return {
      bench: 'WORKER',
      variant: name,
      frames: n,
      ms: median(s.map((x) => x.ms)),
      ...(name === baseline ? {} : { baseline }),
      note: `main thread CPU ${Number.isNaN(cpu) ? 'n/a' : `${cpu.toFixed(1)} µs/frame`}; 640-byte audio records moved both ways, ${IN_FLIGHT} in flight, the thread only sends them back`,
    }
  })
}
