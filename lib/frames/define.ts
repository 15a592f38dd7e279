/**
 * `defineAppFrame`: a typed constructor and guard for one app frame type.
 * @module
 */
import { app } from './constructors.js'
import { isBuiltinType } from './identity.js'
import type { AppFrame, Frame } from './types.js'

/** A constructor for the app frame `A`, with its `type` and a guard. Made by {@link defineAppFrame}. */
export interface AppFrameDefinition<A extends AppFrame<string, unknown>> {
  /** Builds a frame of this type (same checks as `Frames.app`). */
  (data: A['data']): A
  /** The frame type. */
  readonly type: A['type']
  /** True for frames of this type. */
  is(frame: Frame<any>): frame is A
}

/**
 * Defines an app frame type once: returns a constructor that checks `data` against the type and keeps its literal
 * types, with the frame's `type` and a guard.
 *
 * @example
 * ```ts
 * import { Frames, defineAppFrame, type AppFrame, type Frame } from 'apipeline-ts'
 *
 * type Intent = AppFrame<'intent', { name: 'buy' | 'sell' }>
 * const intent = defineAppFrame<Intent>('intent')
 *
 * const buying = Math.random() > 0.5
 * const f = intent({ name: buying ? 'buy' : 'sell' }) // f: Intent
 * function handle(frame: Frame) {
 *   if (intent.is(frame)) console.log(frame.data.name)
 * }
 * handle(f)
 * handle(Frames.text('hi'))
 * ```
 */
export function defineAppFrame<A extends AppFrame<string, unknown>>(type: A['type']): AppFrameDefinition<A> {
  if (typeof type !== 'string' || type.length === 0) throw new TypeError('defineAppFrame(type) must be a non-empty string')
  if (isBuiltinType(type)) throw new TypeError(`defineAppFrame(type): "${type}" is a built-in frame type`)
  const make = (data: A['data']): A => app<A>(type, data)
  const is = (frame: Frame<any>): frame is A => frame.kind === 'app' && frame.type === type
  return Object.assign(make, { type, is })
}
