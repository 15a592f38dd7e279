/**
 * The seed's hold-aggregator example: text frames are held until a notifier fires; a stage placed after the
 * aggregator fires it when a `syncNotify` frame passes. Released frames come out in order, inside the stream;
 * `start` passes once; what is still held at `end` is flushed before `end`. The same notifier could be fired from
 * anywhere (a timer, a user-idle callback, another pipeline).
 *
 * Run: npx tsx examples/hold-aggregator.ts
 */
import { EventNotifier, Frames, holdFrames, holdLastFrame, notifyOn, pipeline, run, type Frame } from '../lib/index.js'

const input = () => [
  Frames.text('one'),
  Frames.text('two'),
  Frames.syncNotify(),
  Frames.text('three'),
  Frames.app('note', 'not held'),
  Frames.text('four'),
  Frames.syncNotify(),
  Frames.text('five (still held at end)'),
]

const label = (f: Frame): string =>
  'text' in f ? `text(${f.text})` : f.type

for (const [title, make] of [
  ['holdFrames', holdFrames],
  ['holdLastFrame', holdLastFrame],
] as const) {
  const notifier = new EventNotifier()
  const p = pipeline(make(notifier, { hold: ['text'] }), notifyOn(notifier, Frames.is('syncNotify')))
  const out: string[] = []
  for await (const frame of run(p, input())) out.push(label(frame))
  console.log(`${title.padEnd(14)} ${out.join(' → ')}`)
}
