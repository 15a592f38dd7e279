/**
 * The session messages on the wire: a 10-byte header, then the payload. Several messages sent in one event-loop turn
 * travel together in one `batch` message (one NATS message instead of many); each keeps its own header and sequence
 * number inside it.
 *
 * | bytes | field |
 * |---|---|
 * | 0 | message type ({@link MessageType}) |
 * | 1 | flags: the frame codec for `frame`/`upstream` (0 JSON, 1 the session's binary format), the reason for `close` |
 * | 2–5 | sequence number, unsigned 32-bit big-endian, counted per direction from 0 over every message |
 * | 6–9 | argument, unsigned 32-bit big-endian: the interruption epoch for `frame`, the amount for `credit`, the number of messages for `batch` |
 * | 10… | the frame (`frame`, `upstream`), a UTF-8 message (`close`), or for `batch` each message preceded by its length (unsigned 32-bit big-endian) |
 *
 * A `batch` carries the sequence number of its first message and is not counted itself: its messages are numbered
 * and checked one by one, as if they had come separately.
 * @module
 */
import { MalformedMessageError } from './errors.js'

/** The kinds of session message. */
export const MessageType = {
  /** A frame travelling downstream (caller → worker: input; worker → caller: output). */
  frame: 1,
  /** A frame travelling upstream (worker → caller: pushed by the worker's stages; caller → worker: pushed after `remote()`). */
  upstream: 2,
  /** Grants the peer `argument` more frames. */
  credit: 3,
  /** Keeps the session alive when nothing else was sent. */
  heartbeat: 4,
  /** Caller → worker: the caller's pipeline was interrupted. */
  interrupt: 5,
  /** The sender leaves the session; flags carry the {@link CloseReason}. */
  close: 6,
  /** Several messages in one (never nested): see the module documentation. */
  batch: 7,
} as const
/** One of {@link MessageType}'s values. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** Why a side closed the session. */
export const CloseReason = {
  /** The worker's output is complete (after its `end`, or its pipeline finished). */
  done: 0,
  /** Cancelled: the caller's run was cancelled, or the worker was closed. */
  cancelled: 1,
  /** A gap in the sequence numbers was detected. */
  gap: 2,
  /** A message could not be decoded. */
  malformed: 3,
  /** The session failed otherwise. */
  failed: 4,
} as const
/** One of {@link CloseReason}'s values. */
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason]

/** Frame codecs in the flags byte. */
export const Codec = { json: 0, binary: 1 } as const
/** One of {@link Codec}'s values. */
export type Codec = (typeof Codec)[keyof typeof Codec]

/** Size of the header. */
export const HEADER_BYTES = 10

/** A decoded message header plus a view of its payload. */
export interface Envelope {
  readonly type: MessageType
  readonly flags: number
  readonly seq: number
  readonly arg: number
  readonly payload: Uint8Array
}

/** Writes `value` as an unsigned 32-bit big-endian integer at `at`. */
function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24
  bytes[at + 1] = value >>> 16
  bytes[at + 2] = value >>> 8
  bytes[at + 3] = value
}

/** Reads an unsigned 32-bit big-endian integer at `at`. */
function readUint32(bytes: Uint8Array, at: number): number {
  return (((bytes[at] as number) << 24) | ((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number)) >>> 0
}

/** Writes a header at `at` of `bytes`. */
function writeHeader(bytes: Uint8Array, at: number, type: number, flags: number, seq: number, arg: number): void {
  bytes[at] = type
  bytes[at + 1] = flags
  writeUint32(bytes, at + 2, seq >>> 0)
  writeUint32(bytes, at + 6, arg >>> 0)
}

/** Writes a message: header, then `payload` (a copy of it). */
export function encodeEnvelope(type: MessageType, flags: number, seq: number, arg: number, payload?: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + (payload?.byteLength ?? 0))
  writeHeader(bytes, 0, type, flags, seq, arg)
  if (payload !== undefined) bytes.set(payload, HEADER_BYTES)
  return bytes
}

/**
 * Messages waiting to be sent, numbered in a row: their headers' fields and payloads, written once into the message
 * (or batch) that carries them.
 * @example
 * ```ts
 * const outbox = new Outbox()
 * outbox.push(MessageType.credit, 0, 32)
 * outbox.push(MessageType.frame, Codec.binary, 0, bytes)
 * const batch = outbox.encode(0, 2, 7) // one batch: messages #7 and #8
 * ```
 */
export class Outbox {
  private types: number[] = []
  private flags: number[] = []
  private args: number[] = []
  private payloads: (Uint8Array | undefined)[] = []

  /** Messages held. */
  get length(): number {
    return this.types.length
  }

  /** Holds one message. */
  push(type: MessageType, flags: number, arg: number, payload?: Uint8Array): void {
    this.types.push(type)
    this.flags.push(flags)
    this.args.push(arg)
    this.payloads.push(payload)
  }

  /** Bytes message `i` takes inside a batch (see {@link batchedSize}). */
  batchedSize(i: number): number {
    return 4 + HEADER_BYTES + (this.payloads[i]?.byteLength ?? 0)
  }

  /**
   * Messages `from` (included) to `to` (excluded), the first numbered `seq`: the message alone when it is one, else
   * one batch — each written once, straight into the bytes that travel.
   */
  encode(from: number, to: number, seq: number): Uint8Array {
    if (to - from === 1) return encodeEnvelope(this.types[from] as MessageType, this.flags[from] as number, seq, this.args[from] as number, this.payloads[from])
    let size = HEADER_BYTES
    for (let i = from; i < to; i++) size += this.batchedSize(i)
    const bytes = new Uint8Array(size)
    writeHeader(bytes, 0, MessageType.batch, 0, seq, to - from)
    let at = HEADER_BYTES
    for (let i = from; i < to; i++) {
      const payload = this.payloads[i]
      const length = HEADER_BYTES + (payload?.byteLength ?? 0)
      writeUint32(bytes, at, length)
      writeHeader(bytes, at + 4, this.types[i] as number, this.flags[i] as number, seq + i - from, this.args[i] as number)
      if (payload !== undefined) bytes.set(payload, at + 4 + HEADER_BYTES)
      at += 4 + length
    }
    return bytes
  }
}

/** Reads a message header; a message that is not a session message is a {@link MalformedMessageError}. */
export function decodeEnvelope(data: Uint8Array): Envelope {
  if (!(data instanceof Uint8Array) || data.byteLength < HEADER_BYTES) {
    throw new MalformedMessageError(`not a session message: ${data?.byteLength ?? 0} bytes, a header has ${HEADER_BYTES}`)
  }
  const type = data[0] as number
  if (type < MessageType.frame || type > MessageType.batch) throw new MalformedMessageError(`not a session message: unknown type ${type}`)
  const flags = data[1] as number
  if ((type === MessageType.frame || type === MessageType.upstream) && flags !== Codec.json && flags !== Codec.binary) {
    throw new MalformedMessageError(`not a session message: unknown frame codec ${flags}`)
  }
  if (type === MessageType.close && flags > CloseReason.failed) throw new MalformedMessageError(`not a session message: unknown close reason ${flags}`)
  if (type === MessageType.batch && flags !== 0) throw new MalformedMessageError(`not a session message: a batch with flags ${flags}`)
  return {
    type: type as MessageType,
    flags,
    seq: readUint32(data, 2),
    arg: readUint32(data, 6),
    payload: data.subarray(HEADER_BYTES),
  }
}

/**
 * Bytes a message takes inside a batch: its length prefix, header and payload.
 * @example
 * ```ts
 * batchedSize(encodeEnvelope(MessageType.heartbeat, 0, 0, 0)) // 14
 * ```
 */
export const batchedSize = (message: Uint8Array): number => 4 + message.byteLength

/**
 * Writes `messages` (encoded by {@link encodeEnvelope}, numbered from `seq` on) as one batch message.
 * @example
 * ```ts
 * const batch = encodeBatch([encodeEnvelope(MessageType.heartbeat, 0, 7, 0), encodeEnvelope(MessageType.credit, 0, 8, 32)], 7)
 * decodeBatch(decodeEnvelope(batch)).map((m) => m.seq) // [7, 8]
 * ```
 */
export function encodeBatch(messages: readonly Uint8Array[], seq: number): Uint8Array {
  let size = HEADER_BYTES
  for (const m of messages) size += batchedSize(m)
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  bytes[0] = MessageType.batch
  view.setUint32(2, seq >>> 0)
  view.setUint32(6, messages.length)
  let at = HEADER_BYTES
  for (const m of messages) {
    view.setUint32(at, m.byteLength)
    bytes.set(m, at + 4)
    at += batchedSize(m)
  }
  return bytes
}

/**
 * The messages of a batch, each decoded; the whole batch is checked before any is used, so a batch that is cut short,
 * has bytes left over, holds another count of messages than it says, nests a batch or holds a message that is not a
 * session message is a {@link MalformedMessageError} as a whole.
 * @example
 * ```ts
 * const batch = decodeEnvelope(encodeBatch([encodeEnvelope(MessageType.credit, 0, 3, 16)], 3))
 * const [credit] = decodeBatch(batch) // { type: MessageType.credit, seq: 3, arg: 16, ... }
 * ```
 */
export function decodeBatch(batch: Envelope): Envelope[] {
  const data = batch.payload
  const out: Envelope[] = []
  let at = 0
  while (at < data.byteLength) {
    if (data.byteLength - at < 4) throw new MalformedMessageError(`malformed batch: ${data.byteLength - at} bytes left where a length was expected`)
    const length = readUint32(data, at)
    at += 4
    if (length > data.byteLength - at) throw new MalformedMessageError(`malformed batch: message ${out.length} claims ${length} bytes, ${data.byteLength - at} are left`)
    const message = decodeEnvelope(data.subarray(at, at + length))
    if (message.type === MessageType.batch) throw new MalformedMessageError('malformed batch: a batch inside a batch')
    out.push(message)
    at += length
  }
  if (out.length !== batch.arg || out.length === 0) throw new MalformedMessageError(`malformed batch: it says ${batch.arg} messages and holds ${out.length}`)
  if ((out[0] as Envelope).seq !== batch.seq) throw new MalformedMessageError(`malformed batch: it says it starts at #${batch.seq}, its first message is #${(out[0] as Envelope).seq}`)
  return out
}
