/**
 * The typed errors of the wire formats.
 * @module
 */

/**
 * Thrown by every `deserialize` when the input is not a valid frame in that format: truncated or garbage bytes,
 * wrong wire types, length prefixes past the end, an unknown frame type, an invalid field value, text that is not
 * UTF-8, JSON with forbidden keys… Decoders throw nothing else. `cause` holds the underlying error, if any.
 * @example
 * ```ts
 * try {
 *   protobufSerializer().deserialize(new Uint8Array([0x0a, 0x05]))
 * } catch (err) {
 *   if (err instanceof FrameDecodeError) console.log(err.format, err.message) // 'protobuf', '…'
 * }
 * ```
 */
export class FrameDecodeError extends Error {
  override readonly name = 'FrameDecodeError'
  /** The wire format that failed: `'protobuf'` or `'json'`. */
  readonly format: string
  constructor(format: string, message: string, options?: { cause?: unknown }) {
    super(`${format}: ${message}`, options)
    this.format = format
  }
}

/**
 * Thrown by `serialize` when a frame cannot be written in that format: a frame type the format does not carry
 * (protobuf carries only text, audio, image and the three interruption frames), app data that is not plain JSON,
 * a string that is not well-formed Unicode (protobuf), or a value out of the wire type's range.
 * `frameType` is the `type` of the frame that failed.
 * @example
 * ```ts
 * try {
 *   protobufSerializer().serialize(Frames.end())
 * } catch (err) {
 *   if (err instanceof FrameEncodeError) console.log(err.frameType) // 'end'
 * }
 * ```
 */
export class FrameEncodeError extends Error {
  override readonly name = 'FrameEncodeError'
  /** The wire format that failed: `'protobuf'` or `'json'`. */
  readonly format: string
  /** The `type` of the frame that could not be serialized. */
  readonly frameType: string
  constructor(format: string, frameType: string, message: string, options?: { cause?: unknown }) {
    super(`${format}: cannot serialize ${frameType} frame: ${message}`, options)
    this.format = format
    this.frameType = frameType
  }
}
