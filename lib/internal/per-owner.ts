/**
 * Values kept per owner object (a connection) and key, which go away with their owner.
 * @module
 */

/**
 * A map of maps held weakly by owner: `of(owner)` is the owner's own map of values by key, made empty on first use.
 * @example
 * ```ts
 * const timers = new PerOwner<object, number, string>()
 * const owner = {}
 * timers.of(owner).set(500, 'every 500 ms')
 * timers.of(owner).get(500) // 'every 500 ms'
 * ```
 */
export class PerOwner<O extends object, K, V> {
  private readonly byOwner = new WeakMap<O, Map<K, V>>()

  /** The values of `owner`, by key. */
  of(owner: O): Map<K, V> {
    let values = this.byOwner.get(owner)
    if (values === undefined) {
      values = new Map()
      this.byOwner.set(owner, values)
    }
    return values
  }
}
