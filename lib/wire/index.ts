/**
 * Wire formats for frames: protobuf (byte-compatible with the Python apipeline schema) and JSON (lossless, ours).
 *
 * @example
 * ```ts
 * import { Frames, protobufSerializer, jsonSerializer } from 'apipeline-ts'
 *
 * const pb = protobufSerializer()
 * pb.deserialize(pb.serialize(Frames.text('hi'))) // text frame, same id and name
 * const json = jsonSerializer()
 * json.serialize(Frames.end()) // '{"kind":"control","type":"end","id":2,"name":"EndFrame#0"}'
 * ```
 * @module
 */
export { FrameDecodeError, FrameEncodeError } from './errors.js'
export type { FrameSerializer, WireInput } from './serializer.js'
export { protobufSerializer, type ProtobufSerializerOptions } from './protobuf.js'
export { jsonSerializer } from './json.js'
export {
  deserializeFrames,
  serializeFrames,
  type DeserializeFramesOptions,
  type SerializeFramesOptions,
  type Source,
  type WireErrorPolicy,
} from './processors.js'
export { decodeEither, encodeEither } from './either.js'
