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
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

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
 * The bytes of standard padded base64 `text`, or `undefined` when `text` is not strictly that (other alphabets,
 * missing padding, whitespace and stray characters are all refused). The result is a plain `Uint8Array`, possibly
 * a view into a larger pooled buffer.
 * @example
 * ```ts
 * fromBase64('AAECAwQFBgc=') // Uint8Array [0, 1, 2, 3, 4, 5, 6, 7]
 * fromBase64('AAECAwQFBgc') // undefined
 * ```
 */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!STRICT.test(text)) return undefined
  if (NodeBuffer !== undefined) {
    const b = NodeBuffer.from(text, 'base64')
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  }
  return base64Decode(text)
}
