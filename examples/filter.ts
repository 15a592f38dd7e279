/**
 * The seed's filter examples, with the names meaning what they say: a frame-type filter (`include` keeps, `exclude`
 * drops), a predicate filter (sync or async) and a null filter. Lifecycle frames (`start`, `end`, …) always pass, so
 * every run still starts and ends.
 *
 * Run: npx tsx examples/filter.ts
 */
import { Frames, frameTypeFilter, functionFilter, nullFilter, pipeline, run, toArray, type Frame } from '../lib/index.js'

const input = (): Frame[] => [
  Frames.text('hello'),
  Frames.audioRaw({ audio: new Uint8Array(320) }),
  Frames.text(''),
  Frames.imageRaw({ image: new Uint8Array(12), size: [2, 2], format: 'RGB', mode: null }),
  Frames.app('transcript', { final: true }),
  Frames.text('bye'),
]

async function show(title: string, processor: Parameters<typeof run>[0]): Promise<void> {
  const seen: Frame[] = []
  for await (const _ of run(pipeline(processor, toArray(seen, { select: () => true })), input())) void _
  console.log(`${title.padEnd(42)} → ${seen.map((f) => (f.kind === 'data' && f.type === 'text' ? `text(${JSON.stringify(f.text)})` : f.type)).join(', ')}`)
}

await show("frameTypeFilter({ include: ['text'] })", frameTypeFilter({ include: ['text'] }))
await show("frameTypeFilter({ exclude: ['audioRaw'] })", frameTypeFilter({ exclude: ['audioRaw'] }))
await show('functionFilter(non-empty text)', functionFilter((f) => f.kind !== 'data' || f.type !== 'text' || f.text !== ''))
await show(
  'functionFilter(async, app frames out)',
  functionFilter(async (f) => {
    await new Promise((resolve) => setTimeout(resolve, 1)) // e.g. ask a moderation service
    return f.kind !== 'app'
  }),
)
await show('nullFilter()', nullFilter())
