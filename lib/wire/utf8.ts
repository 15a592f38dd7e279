/**
 * UTF-8 helpers for the protobuf writer: exact byte length (rejecting lone surrogates) and writing in place.
 * @module
 */

/**
 * The UTF-8 byte length of `s`, or -1 when `s` is not well-formed Unicode (a lone surrogate), which UTF-8 cannot
 * represent.
 * @example
 * ```ts
 * utf8Length('hé') // 3
 * utf8Length('\ud800') // -1
 * ```
 */
export function utf8Length(s: string): number {
  let n = 0
  const len = s.length
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdfff) {
      if (c > 0xdbff || i + 1 >= len) return -1
      const d = s.charCodeAt(i + 1)
      if (d < 0xdc00 || d > 0xdfff) return -1
      n += 4
      i++
    } else n += 3
  }
  return n
}

let encoder: TextEncoder | undefined

/**
 * Writes the UTF-8 bytes of `s` (of byte length `byteLength`, from {@link utf8Length}) into `out` at `pos`;
 * returns the position after them.
 * @example
 * ```ts
 * const out = new Uint8Array(2)
 * writeUtf8('hi', 2, out, 0) // 2
 * ```
 */
export function writeUtf8(s: string, byteLength: number, out: Uint8Array, pos: number): number {
  if (byteLength === s.length) {
    for (let i = 0; i < byteLength; i++) out[pos + i] = s.charCodeAt(i)
    return pos + byteLength
  }
  encoder ??= new TextEncoder()
  encoder.encodeInto(s, out.subarray(pos, pos + byteLength))
  return pos + byteLength
}
