/**
 * The golden vectors of the Python serializer (Python apipeline 0.2.12, `ProtobufFrameSerializer`): the frame and the exact bytes.
 */
import * as Frames from '../../lib/frames/index.js'
import type { Frame } from '../../lib/frames/types.js'

export interface Golden {
  readonly label: string
  readonly make: () => Frame
  readonly hex: string
}

export const GOLDEN: readonly Golden[] = [
  {
    label: 'TextFrame("hello world") id 1',
    make: () => Frames.withIdentity(Frames.text('hello world'), 1, 'TextFrame#0'),
    hex: '0a1c0801120b546578744672616d6523301a0b68656c6c6f20776f726c64',
  },
  {
    label: 'AudioRawFrame(00..07, 16000, 1, 2) id 2',
    make: () =>
      Frames.withIdentity(
        Frames.audioRaw({ audio: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]), sampleRate: 16000, numChannels: 1, sampleWidth: 2 }),
        2,
        'AudioRawFrame#0',
      ),
    hex: '12240802120f417564696f5261774672616d6523301a08000102030405060720807d28013002',
  },
  {
    label: 'ImageRawFrame(0a141e, 1920x1080, jpeg, RGB) id 3',
    make: () =>
      Frames.withIdentity(
        Frames.imageRaw({ image: Uint8Array.from([0x0a, 0x14, 0x1e]), size: [1920, 1080], format: 'jpeg', mode: 'RGB' }),
        3,
        'ImageRawFrame#0',
      ),
    hex: '1a2e0803120f496d6167655261774672616d6523301a030a141e22093139323078313038302a046a7065673203524742',
  },
  {
    label: 'InterruptionFrame id 4',
    make: () => Frames.withIdentity(Frames.interruption(), 4, 'InterruptionFrame#0'),
    hex: 'a2061708041213496e74657272757074696f6e4672616d652330',
  },
  {
    label: 'StartInterruptionFrame id 5',
    make: () => Frames.withIdentity(Frames.startInterruption(), 5, 'StartInterruptionFrame#0'),
    hex: 'aa061c080512185374617274496e74657272757074696f6e4672616d652330',
  },
  {
    label: 'StopInterruptionFrame id 6',
    make: () => Frames.withIdentity(Frames.stopInterruption(), 6, 'StopInterruptionFrame#0'),
    hex: 'b2061b0806121753746f70496e74657272757074696f6e4672616d652330',
  },
  {
    label: 'TextFrame("") id 7 (empty text omitted)',
    make: () => Frames.withIdentity(Frames.text(''), 7, 'TextFrame#1'),
    hex: '0a0f0807120b546578744672616d652331',
  },
]

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error('odd hex')
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
