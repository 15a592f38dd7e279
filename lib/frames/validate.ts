/**
 * Argument checks shared by the frame constructors; each failure is a `TypeError` naming the field.
 * @module
 */

/** Throws a `TypeError` unless `value` is a string. */
export function requireString(where: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${where} must be a string, got ${describe(value)}`)
  return value
}

/** Throws a `TypeError` unless `value` is a string or null. */
export function requireStringOrNull(where: string, value: unknown): string | null {
  if (value !== null && typeof value !== 'string') {
    throw new TypeError(`${where} must be a string or null, got ${describe(value)}`)
  }
  return value
}

/** Throws a `TypeError` unless `value` is a boolean. */
export function requireBoolean(where: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${where} must be a boolean, got ${describe(value)}`)
  return value
}

/** The largest value of a protobuf `uint32` field (sample rates, channel counts, sample widths). */
export const UINT32_MAX = 0xffff_ffff

/**
 * Throws a `TypeError` unless `value` is a safe integer (exactly representable: no encoder could write a larger one
 * faithfully) from `min` to `max` (default `Number.MAX_SAFE_INTEGER`).
 */
export function requireInteger(where: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a safe integer >= ${min}` : `an integer from ${min} to ${max}`
    throw new TypeError(`${where} must be ${range}, got ${describe(value)}`)
  }
  return value
}

/** Throws a `TypeError` unless `value` is a finite number. */
export function requireFinite(where: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where} must be a finite number, got ${describe(value)}`)
  }
  return value
}

/** Throws a `TypeError` unless `value` is a Uint8Array (a Node Buffer is one). */
export function requireBytes(where: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${where} must be a Uint8Array, got ${describe(value)}`)
  return value
}

/** Throws a `TypeError` unless `value` is a plain options object (or undefined). */
export function requireOptions(where: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where} must be an object, got ${describe(value)}`)
  }
  return value as Record<string, unknown>
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `an array of length ${value.length}`
  if (value instanceof Uint8Array) return `a Uint8Array of length ${value.length}`
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'undefined':
      return 'undefined'
    case 'function':
      return 'a function'
    case 'symbol':
      return 'a symbol'
    default:
      return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`
  }
}
