/**
 * The seed's frame-logger example: log what passes a point of the pipeline, in both directions. Here a later stage
 * reports a (non-fatal) error upstream; the logger sees it travel up (↑) while text travels down (↓).
 *
 * Run: npx tsx examples/frame-logger.ts
 */
import { frameLogger, Frames, pipeline, run, textTransformer, type ProcessorFn } from '../lib/index.js'

const complainAboutEmpty: ProcessorFn = async function* complainAboutEmpty(source, ctx) {
  for await (const frame of source) {
    if (frame.kind === 'data' && frame.type === 'text' && frame.text === '') {
      ctx.pushUpstream(Frames.error('empty text frame'))
      continue
    }
    yield frame
  }
}

const p = pipeline(
  frameLogger({ prefix: 'in', exclude: ['audioRaw'] }),
  textTransformer((text) => text.toUpperCase()),
  complainAboutEmpty,
  frameLogger({ prefix: 'out', direction: 'down', logger: (line) => console.log(`[out] ${line}`) }),
)

const input = [Frames.text('hello'), Frames.audioRaw({ audio: new Uint8Array(320) }), Frames.text(''), Frames.text('bye')]
for await (const _ of run(p, input)) void _
