/**
 * What app frame `data` may hold in the JSON format: plain JSON values that survive `JSON.stringify` /
 * `JSON.parse` unchanged.
 * @module
 */

/** Deepest nesting of arrays and objects accepted in app data. */
export const MAX_JSON_DEPTH = 256

/**
 * Returns `undefined` when `value` is plain JSON that round-trips losslessly, else a description of the first
 * problem with its path: `undefined`, functions, symbols, bigints, non-finite numbers, sparse arrays or arrays with
 * extra properties, objects that are not plain (class instances, `Date`, `Map`, typed arrays…), symbol keys,
 * `__proto__` keys, cycles, or nesting deeper than {@link MAX_JSON_DEPTH}. `-0` is accepted and comes back as `0`.
 * @example
 * ```ts
 * jsonProblem({ a: [1, 'x', null] }) // undefined
 * jsonProblem({ when: new Date() }) // 'data.when is an object of class Date, not a plain object'
 * ```
 */
export function jsonProblem(value: unknown, path = 'data'): string | undefined {
  return check(value, path, 0, new Set())
}

function check(value: unknown, path: string, depth: number, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot hold`
    case 'undefined':
      return `${path} is undefined, which JSON cannot hold`
    case 'function':
    case 'symbol':
    case 'bigint':
      return `${path} is a ${typeof value}, which JSON cannot hold`
    default:
      break
  }
  if (value === null) return undefined
  const obj = value as object
  if (depth >= MAX_JSON_DEPTH) return `${path} is nested deeper than ${MAX_JSON_DEPTH} levels`
  if (ancestors.has(obj)) return `${path} is a cycle`
  if (Object.getOwnPropertySymbols(obj).length > 0) return `${path} has symbol keys, which JSON cannot hold`
  ancestors.add(obj)
  try {
    if (Array.isArray(obj)) {
      const keys = Object.keys(obj)
      if (keys.length !== obj.length) return `${path} is a sparse array or has extra properties`
      for (let i = 0; i < obj.length; i++) {
        const problem = check(obj[i], `${path}[${i}]`, depth + 1, ancestors)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    const proto: unknown = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      const ctor = (proto as { constructor?: { name?: unknown } } | null)?.constructor?.name
      return `${path} is an object of class ${typeof ctor === 'string' && ctor !== '' ? ctor : '(anonymous)'}, not a plain object`
    }
    for (const key of Object.keys(obj)) {
      if (key === '__proto__') return `${path} has a "__proto__" key, which is refused`
      const problem = check((obj as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, ancestors)
      if (problem !== undefined) return problem
    }
    return undefined
  } finally {
    ancestors.delete(obj)
  }
}
