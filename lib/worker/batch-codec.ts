/**
 * The compact form of a batch of frames between a worker-thread stage and its threads. Audio frames — the frames such
 * stages mostly handle — travel as numbers in one `Float64Array` (a row per frame), their names joined in one string
 * and their bytes as views whose buffers are in the transfer list; any other frame travels as a structured-cloned
 * record ({@link packFrame}). Structured cloning a row of numbers costs far less than cloning an object per frame, on
 * both sides.
 *
 * Both directions are decoded with the same checks as the frame constructors: a batch that does not hold what its rows
 * say is a {@link FrameRecordError} naming the problem, for the frame it is about.
 * @module
 */
import { audioRaw } from '../frames/constructors.js'
import type { AudioRawFrame, Frame } from '../frames/types.js'
import { describe, requireInteger, UINT32_MAX } from '../frames/validate.js'
import { FrameRecordError, packFrame, portableBytes, unpackFrame, type FrameRecord } from './frame-transfer.js'

/** Row codes: how a frame travels. */
const RECORD = 0
const AUDIO = 1

/** Numbers per frame of a request row: code, id, reference, sample rate, channels, sample width. */
const REQUEST_ROW = 6
/** Numbers per output of a reply: code, same-as-input flag, reference, sample rate, channels, sample width. */
const OUTPUT_ROW = 6

/** Separates the names of the audio frames of a request. */
const NAME_SEPARATOR = '\n'

/** A batch of frames for a thread: the rows, the names and bytes of its audio frames, the records of the others. */
export interface EncodedFrames {
  /** {@link REQUEST_ROW} numbers per frame (a `Float64Array`'s buffer, moved). */
  readonly head: ArrayBuffer
  /** The names of the audio frames, in row order, joined by a line feed. */
  readonly names: string
  /** The bytes of the audio frames, in row order. */
  readonly bytes: readonly Uint8Array[]
  /** The other frames, as records. */
  readonly records: readonly FrameRecord[]
}

/** True for an audio frame that fits a row: the constructor's fields only, no line feed in its name. */
function fitsRow(frame: Frame): frame is AudioRawFrame {
  return frame.type === 'audioRaw' && frame.kind === 'data' && frame.uninterruptible !== true && !frame.name.includes(NAME_SEPARATOR)
}

/** Encodes `frames` for a thread; the buffers to move join `transfer` (see {@link packFrame} for what `move` moves). */
export function encodeFrames(frames: readonly Frame[], move: boolean, transfer: Set<ArrayBuffer>): EncodedFrames {
  const rows = new Float64Array(frames.length * REQUEST_ROW)
  let names = ''
  const bytes: Uint8Array[] = []
  const records: FrameRecord[] = []
  for (let i = 0, r = 0; i < frames.length; i++, r += REQUEST_ROW) {
    const frame = frames[i] as Frame
    rows[r + 1] = frame.id
    if (fitsRow(frame)) {
      rows[r] = AUDIO
      rows[r + 2] = bytes.length
      rows[r + 3] = frame.sampleRate
      rows[r + 4] = frame.numChannels
      rows[r + 5] = frame.sampleWidth
      names = bytes.length === 0 ? frame.name : names + NAME_SEPARATOR + frame.name
      bytes.push(portableBytes(frame.audio, move, transfer))
    } else {
      rows[r] = RECORD
      rows[r + 2] = records.length
      records.push(packFrame(frame, move, transfer))
    }
  }
  transfer.add(rows.buffer)
  return { head: rows.buffer, names, bytes, records }
}

/** Frames in an encoded batch; throws a {@link FrameRecordError} when its rows are not whole. */
export function encodedCount(batch: EncodedFrames): number {
  const head: unknown = batch?.head
  if (!(head instanceof ArrayBuffer) || head.byteLength % (REQUEST_ROW * 8) !== 0) throw new FrameRecordError(`not a batch of frames: its rows are ${describe(head)}`)
  return head.byteLength / (REQUEST_ROW * 8)
}

/** An audio frame from a row's fields, checked like `Frames.audioRaw` does; with `identity`, it keeps that `id` and `name`. */
function audioFrame(bytes: unknown, sampleRate: unknown, numChannels: unknown, sampleWidth: unknown, identity: { readonly id: number; readonly name: string } | undefined): AudioRawFrame {
  if (identity === undefined) {
    try {
      return audioRaw({ audio: bytes as Uint8Array, sampleRate: sampleRate as number, numChannels: numChannels as number, sampleWidth: sampleWidth as number })
    } catch (err) {
      throw new FrameRecordError(`not a valid frame: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
  }
  if (!(bytes instanceof Uint8Array)) throw new FrameRecordError(`not a valid frame: audioRaw.audio must be a Uint8Array, got ${describe(bytes)}`)
  let rate: number
  let channels: number
  let width: number
  try {
    rate = requireInteger('audioRaw.sampleRate', sampleRate, 1, UINT32_MAX)
    channels = requireInteger('audioRaw.numChannels', numChannels, 1, UINT32_MAX)
    width = requireInteger('audioRaw.sampleWidth', sampleWidth, 1, UINT32_MAX)
  } catch (err) {
    throw new FrameRecordError(`not a valid frame: ${(err as Error).message}`, { cause: err })
  }
  if (!Number.isSafeInteger(identity.id) || identity.id < 0) throw new FrameRecordError(`not a frame identity: id ${describe(identity.id)}`)
  if (typeof identity.name !== 'string') throw new FrameRecordError(`not a frame identity: name ${describe(identity.name)}`)
  return {
    kind: 'data',
    type: 'audioRaw',
    id: identity.id,
    name: identity.name,
    audio: bytes,
    sampleRate: rate,
    numChannels: channels,
    sampleWidth: width,
    numFrames: Math.floor(bytes.length / (channels * width)),
  }
}

/**
 * Reads the frames of an encoded batch, each when asked for (a frame an interruption overtook is never decoded), with
 * the identity it has on the sending side.
 */
export class EncodedFramesReader {
  /** Frames in the batch. */
  readonly count: number
  private readonly rows: Float64Array
  private names: string[] | undefined

  /** Throws a {@link FrameRecordError} when `batch` is not an encoded batch. */
  constructor(private readonly batch: EncodedFrames) {
    this.count = encodedCount(batch)
    this.rows = new Float64Array(batch.head)
    if (!Array.isArray(batch.bytes) || !Array.isArray(batch.records) || typeof batch.names !== 'string') {
      throw new FrameRecordError('not a batch of frames: it lacks its bytes, records or names')
    }
  }

  /** Frame `i`; throws a {@link FrameRecordError} naming the problem when its row or data is not a valid frame. */
  frame(i: number): Frame {
    const r = i * REQUEST_ROW
    const rows = this.rows
    const code = rows[r]
    const ref = rows[r + 2] as number
    if (code === RECORD) {
      const record = this.batch.records[ref]
      if (record === undefined) throw new FrameRecordError(`not a batch of frames: row ${i} refers to record ${ref} of ${this.batch.records.length}`)
      return unpackFrame(record, { id: record['id'] as number, name: record['name'] as string })
    }
    if (code !== AUDIO) throw new FrameRecordError(`not a batch of frames: row ${i} has code ${describe(code)}`)
    this.names ??= this.batch.names.length === 0 ? [] : this.batch.names.split(NAME_SEPARATOR)
    const name = this.names[ref]
    if (name === undefined || !(ref in this.batch.bytes)) throw new FrameRecordError(`not a batch of frames: row ${i} refers to audio ${ref} of ${this.batch.bytes.length}`)
    return audioFrame(this.batch.bytes[ref], rows[r + 3], rows[r + 4], rows[r + 5], { id: rows[r + 1] as number, name })
  }
}

/** The outputs of a batch's frames as a thread sends them back: rows, the bytes of audio outputs, records of the others. */
export interface EncodedOutputs {
  /**
   * Per input frame, in order: its number of outputs then {@link OUTPUT_ROW} numbers per output, or -1 then the index of
   * its entry in the reply's list of other outcomes (a failure, a skip, …). A `Float64Array`'s buffer, moved.
   */
  readonly head: ArrayBuffer
  /** The bytes of the audio outputs, in order. */
  readonly bytes: readonly Uint8Array[]
  /** The other outputs, as records. */
  readonly records: readonly FrameRecord[]
}

/** Builds the {@link EncodedOutputs} of a batch, one input frame after the other (thread side). */
export class OutputsWriter {
  private readonly rows: number[] = []
  private readonly bytes: Uint8Array[] = []
  private readonly records: FrameRecord[] = []

  /** Records that the input frame's outcome is entry `index` of the reply's other outcomes. */
  other(index: number): void {
    this.rows.push(-1, index)
  }

  /**
   * Adds the outputs of the next input frame (`same[i]`: `outputs[i]` is that input frame, returned as received); every
   * byte buffer of them joins `transfer` (moved: the thread drops its copies). Throws what {@link packFrame} throws, having
   * added nothing.
   */
  outputs(outputs: readonly Frame[], same: readonly boolean[], transfer: Set<ArrayBuffer>): void {
    const rows: number[] = [outputs.length]
    const bytes: Uint8Array[] = []
    const records: FrameRecord[] = []
    const moved = new Set<ArrayBuffer>()
    for (let i = 0; i < outputs.length; i++) {
      const frame = outputs[i] as Frame
      const isSame = same[i] === true ? 1 : 0
      if (fitsRow(frame)) {
        rows.push(AUDIO, isSame, this.bytes.length + bytes.length, frame.sampleRate, frame.numChannels, frame.sampleWidth)
        bytes.push(portableBytes(frame.audio, true, moved))
      } else {
        rows.push(RECORD, isSame, this.records.length + records.length, 0, 0, 0)
        records.push(packFrame(frame, true, moved))
      }
    }
    for (const n of rows) this.rows.push(n)
    for (const b of bytes) this.bytes.push(b)
    for (const r of records) this.records.push(r)
    for (const buffer of moved) transfer.add(buffer)
  }

  /** The encoded outputs; the rows' buffer joins `transfer`. */
  finish(transfer: Set<ArrayBuffer>): EncodedOutputs {
    const head = new Float64Array(this.rows).buffer
    transfer.add(head)
    return { head, bytes: this.bytes, records: this.records }
  }
}

/** What an encoded reply says of one input frame: its outputs, or the index of its entry among the other outcomes. */
export type DecodedOutcome = { readonly frames: readonly Frame[] } | { readonly other: number } | { readonly invalid: FrameRecordError }

/**
 * Decodes the outcomes of `inputs` (the frames sent, in order) from `encoded` (calling side). An output returned as
 * its input keeps the input's identity; others get a fresh identity of this thread. A frame whose outputs are not valid
 * frames gets `invalid`; rows that do not add up throw a {@link FrameRecordError}.
 */
export function decodeOutputs(encoded: EncodedOutputs, inputs: readonly Frame[]): DecodedOutcome[] {
  const head: unknown = encoded?.head
  if (!(head instanceof ArrayBuffer) || head.byteLength % 8 !== 0) throw new FrameRecordError(`not a batch of outcomes: its rows are ${describe(head)}`)
  if (!Array.isArray(encoded.bytes) || !Array.isArray(encoded.records)) throw new FrameRecordError('not a batch of outcomes: it lacks its bytes or records')
  const rows = new Float64Array(head)
  const out: DecodedOutcome[] = []
  let r = 0
  for (const input of inputs) {
    if (r >= rows.length) throw new FrameRecordError(`not a batch of outcomes: ${out.length} of ${inputs.length} frames answered`)
    const n = rows[r] as number
    if (n === -1) {
      out.push({ other: rows[r + 1] as number })
      r += 2
      continue
    }
    if (!Number.isSafeInteger(n) || n < 0 || r + 1 + n * OUTPUT_ROW > rows.length) throw new FrameRecordError(`not a batch of outcomes: ${describe(n)} outputs at row ${r}`)
    r++
    const frames: Frame[] = []
    let invalid: FrameRecordError | undefined
    for (let k = 0; k < n; k++, r += OUTPUT_ROW) {
      if (invalid !== undefined) continue
      const identity = rows[r + 1] === 1 ? input : undefined
      const ref = rows[r + 2] as number
      try {
        if (rows[r] === AUDIO) {
          if (!(ref in encoded.bytes)) throw new FrameRecordError(`not a batch of outcomes: output refers to audio ${ref} of ${encoded.bytes.length}`)
          frames.push(audioFrame(encoded.bytes[ref], rows[r + 3], rows[r + 4], rows[r + 5], identity))
        } else if (rows[r] === RECORD) {
          const record = encoded.records[ref]
          if (record === undefined) throw new FrameRecordError(`not a batch of outcomes: output refers to record ${ref} of ${encoded.records.length}`)
          frames.push(unpackFrame(record, identity))
        } else throw new FrameRecordError(`not a batch of outcomes: output code ${describe(rows[r])}`)
      } catch (err) {
        invalid = err instanceof FrameRecordError ? err : new FrameRecordError(String(err), { cause: err })
      }
    }
    out.push(invalid === undefined ? { frames } : { invalid })
  }
  if (r !== rows.length) throw new FrameRecordError(`not a batch of outcomes: ${rows.length - r} numbers left over`)
  return out
}
