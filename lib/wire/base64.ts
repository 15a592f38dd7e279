/**
 * Standard base64 (RFC 4648 §4, with `=` padding) for the JSON format: strict on decode.
 * Uses Node's `Buffer` when it exists (fast), else the portable codec of `@bufbuild/protobuf`.
 * @module
 */
import { base64Decode, base64Encode } from '@bufbuild/protobuf/wire'

interface BufferLike extends Uint8Array {
  toString(encoding?: string): string
}
interface BufferStatic {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): BufferLike
  from(text: string, encoding: 'base64'): BufferLike
}

const NodeBuffer = (globalThis as { Buffer?: BufferStatic }).Buffer

/**
 * Standard padded base64 of `bytes`.
 * @example
 * ```ts
 * toBase64(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7])) // 'AAECAwQFBgc='
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  return base64Encode(bytes, 'std')
}

/**
 * The bytes of canonical standard padded base64 `text`, or `undefined` when `text` is not exactly that (other
 * alphabets, missing padding, whitespace, stray characters and non-zero padding bits are all refused: the bytes must
 * encode back to `text`). The result is a plain `Uint8Array`, possibly a view into a larger pooled buffer.
 * @example
 * ```ts
 * fromBase64('AAECAwQFBgc=') // Uint8Array [0, 1, 2, 3, 4, 5, 6, 7]
 * fromBase64('AAECAwQFBgc') // undefined
 * ```
 */
export function fromBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined
  if (NodeBuffer !== undefined) {
    const b = NodeBuffer.from(text, 'base64')
    if (b.toString('base64') !== text) return undefined
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  }
  let bytes: Uint8Array
  try {
    bytes = base64Decode(text)
  } catch {
    return undefined
  }
  return base64Encode(bytes, 'std') === text ? bytes : undefined
}
