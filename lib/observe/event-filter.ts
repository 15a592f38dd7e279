/**
 * What an observer selects (`at`, `processors`, `kinds`, `directions` of an observer object), checked on the columns of
 * the event log before an event object is made, and merged over every attached observer into what the task records.
 * @module
 */
import type { FrameKind } from '../frames/types.js'
import type { FlowDirection, FramePoint, ObserverSelection } from './events.js'

const POINTS: readonly FramePoint[] = ['input', 'processor', 'output']
const DIRECTIONS: readonly FlowDirection[] = ['down', 'up']
const KINDS: readonly FrameKind[] = ['system', 'control', 'data', 'app']

/** The code of a frame event in the event log: bit 0 the direction (1 = up), bits 1-2 the point (input, processor, output). */
export function eventCode(direction: FlowDirection, at: FramePoint): number {
  return (direction === 'up' ? 1 : 0) | ((at === 'input' ? 0 : at === 'processor' ? 1 : 2) << 1)
}

/** One observer's selection. `undefined` fields select everything. */
export interface EventFilter {
  /** By event code (see {@link eventCode}): 1 when selected. */
  readonly codes: Uint8Array
  readonly kinds: ReadonlySet<string> | undefined
  /** Processor paths below the task (each selects itself and what is below it). */
  readonly processors: readonly string[] | undefined
}

function checkList<T extends string>(where: string, key: string, value: unknown, allowed: readonly T[]): readonly T[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((v) => !allowed.includes(v as T))) {
    throw new TypeError(`${where}: observer ${key} must be an array of ${allowed.map((a) => `'${a}'`).join(', ')}`)
  }
  return value as readonly T[]
}

/** Checks the selection options of `o`; undefined when it selects every frame event. */
export function eventFilter(where: string, o: ObserverSelection): EventFilter | undefined {
  const at = checkList(where, 'at', o.at, POINTS)
  const directions = checkList(where, 'directions', o.directions, DIRECTIONS)
  const kinds = checkList(where, 'kinds', o.kinds, KINDS)
  const processors = o.processors
  if (processors !== undefined && (!Array.isArray(processors) || processors.some((p) => typeof p !== 'string' || p.length === 0))) {
    throw new TypeError(`${where}: observer processors must be an array of processor paths (non-empty strings)`)
  }
  if (at === undefined && directions === undefined && kinds === undefined && processors === undefined) return undefined
  const codes = new Uint8Array(8)
  for (const point of at ?? POINTS) for (const direction of directions ?? DIRECTIONS) codes[eventCode(direction, point)] = 1
  return { codes, kinds: kinds === undefined ? undefined : new Set(kinds), processors: processors === undefined ? undefined : [...processors] }
}

/** True when `processor` (a full name, `<task>/<path>`) is `path` or below it. */
function under(processor: string, prefix: string, path: string): boolean {
  const full = prefix.length + path.length
  return processor.startsWith(path, prefix.length) && processor.startsWith(prefix) && (processor.length === full || processor.charCodeAt(full) === 47)
}

/** True when any of `paths` (below the task `prefix`, `"<task>/"`) selects the processor named `processor`. */
export function selectsProcessor(paths: readonly string[], prefix: string, processor: string): boolean {
  for (const path of paths) if (under(processor, prefix, path)) return true
  return false
}
