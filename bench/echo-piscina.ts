/** A piscina task for the WORKER transport rows: returns its input (an array of frame records), the byte buffers moved back. */
import { move, transferableSymbol, valueSymbol } from 'piscina'

export default function echo(records: { audio: Uint8Array }[]): unknown {
  return move({ [transferableSymbol]: records.map((r) => r.audio.buffer), [valueSymbol]: records })
}
