/** A worker thread for the WORKER transport rows: answers every message (an array of frame records) with itself, the byte buffers moved back. */
import { parentPort } from 'node:worker_threads'

parentPort?.on('message', (records: { audio: Uint8Array }[]) => {
  parentPort?.postMessage(records, records.map((r) => r.audio.buffer as ArrayBuffer))
})
