/**
 * Lock-step contexts: the contexts `syncParallel` gives its branches (and everything nested in them).
 *
 * `syncParallel` knows a branch has finished with an input frame when the branch asks for the next one. A nested
 * `parallel` normally reads ahead (each of its branches has a buffer), which would make it ask early; when it runs
 * under a lock-step context it instead asks its source for the next frame only once every one of its branches has
 * finished with the current one and everything they produced has been handed on. Contexts created from a lock-step
 * context are lock-step too, so this holds at any depth.
 * @module
 */
import { Context } from '../core/context.js'
import type { Frame } from '../frames/types.js'

/** A context whose children are lock-step contexts too. */
class LockstepContext extends Context {
  override child(name: string, pushUpstream: (frame: Frame) => void): Context {
    return new LockstepContext(this.runtime, name, pushUpstream)
  }
}

/**
 * A lock-step child of `parent`.
 * @example
 * ```ts
 * const parent = detachedContext('syncParallel')
 * const branchCtx = lockstepChild(parent, `${parent.name}/branch0`, (f) => parent.pushUpstream(f))
 * isLockstep(branchCtx) // true
 * ```
 */
export function lockstepChild(parent: Context, name: string, pushUpstream: (frame: Frame) => void): Context {
  return new LockstepContext(parent.runtime, name, pushUpstream)
}

/**
 * True when `ctx` runs inside a `syncParallel` branch.
 * @example
 * ```ts
 * isLockstep(detachedContext('alone')) // false: not inside a syncParallel branch
 * ```
 */
export function isLockstep(ctx: Context): boolean {
  return ctx instanceof LockstepContext
}
