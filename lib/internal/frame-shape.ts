/**
 * The cheap frame check made where values cross a stage boundary (every frame a stage hands on, every frame pushed
 * upstream), and how a rejected value is described in the error frame that reports it.
 * @module
 */
import type { Frame } from '../frames/types.js'

/**
 * True when `value` may travel on as a frame: an object whose `kind` is one of the four frame kinds. Cheap on purpose
 * (it runs for every frame a stage hands on); `Frames.isFrame` is the full check.
 */
export function isFrameShaped(value: unknown): value is Frame {
  if (typeof value !== 'object' || value === null) return false
  const kind = (value as { kind?: unknown }).kind
  return kind === 'data' || kind === 'system' || kind === 'control' || kind === 'app'
}

/** Describes a value that is not a frame for an error message (short, never throws). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name
    return typeof name === 'string' && name !== 'Object' ? `a ${name}` : 'an object that is not a frame'
  }
  if (typeof value === 'function') return 'a function'
  try {
    return String(value)
  } catch {
    return typeof value
  }
}

