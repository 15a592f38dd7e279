/**
 * Every processor the library ships obeys the lifecycle laws of `apipeline/testing`: `start` first and `end` last
 * (each once), nothing after `end`, teardown on an early break, no unhandled rejection — on random frame streams.
 */
import { describe, it } from 'vitest'
import {
  buffer,
  buffered,
  EventNotifier,
  filter,
  flatMap,
  frameLogger,
  frameTypeFilter,
  functionFilter,
  gatedAggregator,
  holdFrames,
  holdLastFrame,
  idle,
  map,
  mapConcurrent,
  measured,
  notifyOn,
  nullFilter,
  parallel,
  pipeline,
  sentenceAggregator,
  sequential,
  syncParallel,
  tap,
  textTransformer,
  toArray,
  toCallback,
  userIdle,
  type Frame,
  type Processor,
} from '../../lib/index.js'
import { checkLifecycleLaws } from '../../lib/testing/index.js'

const textOf = (f: Frame): string | undefined => (f.kind === 'data' && f.type === 'text' ? f.text : undefined)
const passthrough: Processor = async function* passthrough(source) {
  yield* source
}

const processors: readonly [string, () => Processor][] = [
  ['map', () => map((f) => f)],
  ['filter', () => filter((f) => f.kind !== 'data')],
  ['tap', () => tap(() => {})],
  ['flatMap', () => flatMap((f) => [f, f].slice(0, f.kind === 'data' ? 2 : 1))],
  ['mapConcurrent', () => mapConcurrent(async (f) => f, { concurrency: 3 })],
  ['frameTypeFilter', () => frameTypeFilter({ exclude: ['text'] })],
  ['functionFilter (sync)', () => functionFilter((f) => textOf(f) !== '')],
  ['functionFilter (async)', () => functionFilter(async (f) => textOf(f) !== '')],
  ['nullFilter', () => nullFilter()],
  ['sentenceAggregator', () => sentenceAggregator()],
  ['gatedAggregator', () => gatedAggregator({ open: (f) => textOf(f)?.startsWith('a') === true, close: (f) => textOf(f)?.startsWith('b') === true })],
  ['holdFrames', () => {
    const n = new EventNotifier()
    return pipeline(holdFrames(n, { hold: (f) => f.kind === 'data' }), notifyOn(n, (f) => f.kind === 'control' && f.type === 'sync'))
  }],
  ['holdLastFrame', () => holdLastFrame(new EventNotifier(), { hold: (f) => f.kind === 'data' })],
  ['textTransformer (sync)', () => textTransformer((t) => t.toUpperCase())],
  ['textTransformer (async)', () => textTransformer(async (t) => t.toUpperCase())],
  ['frameLogger', () => frameLogger({ logger: () => {} })],
  ['toArray', () => toArray([])],
  ['toCallback', () => toCallback(async () => {})],
  ['buffer', () => buffer({ capacity: 2 })],
  ['buffered', () => buffered(passthrough, { capacity: 2 })],
  ['idle', () => idle({ timeoutMs: 60_000, onIdle: () => undefined })],
  ['userIdle', () => userIdle({ timeoutMs: 60_000, onIdle: () => undefined })],
  ['measured', () => measured(passthrough)],
  ['parallel', () => parallel(map((f) => f), passthrough)],
  ['syncParallel', () => syncParallel(map((f) => f), [passthrough, filter((f) => f.kind !== 'data')])],
  ['sequential', () => sequential(map((f) => f), passthrough)],
]

describe('every shipped processor obeys the lifecycle laws', () => {
  it.each(processors)('%s', async (_, make) => {
    await checkLifecycleLaws(pipeline(make()), { numRuns: 50 })
  })
})
