/**
 * Runs in a browser page (bundled by spec/package/browser.spec.ts): the core, the combinators, a buffered stage and
 * both wire formats, with web APIs only. Writes the result as JSON into `<pre id="result">`.
 */
import {
  buffered,
  Frames,
  jsonSerializer,
  map,
  mapConcurrent,
  parallel,
  pipeline,
  PipelineTask,
  protobufSerializer,
  run,
  syncParallel,
  type Frame,
} from '../../lib/index.js'

const textOf = (f: Frame): string | undefined => (f.kind === 'data' && f.type === 'text' ? f.text : undefined)

async function main(): Promise<unknown> {
  const upper = map((f) => (textOf(f) !== undefined ? Frames.text((textOf(f) as string).toUpperCase()) : f))
  const slow = mapConcurrent(async (f) => {
    await new Promise((resolve) => setTimeout(resolve, 1))
    return f
  })
  const out: string[] = []
  for await (const f of run(pipeline(upper, buffered(slow), parallel(map((f) => f), syncParallel(map((f) => f)))), [Frames.text('a'), Frames.text('b')])) {
    out.push(textOf(f) ?? f.type)
  }

  const task = new PipelineTask(
    async function* parked(source, ctx) {
      for await (const f of source) {
        if (f.kind === 'data') await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))
        yield f
      }
    },
    { cancelTimeoutMs: 200 },
  )
  await task.queueFrame(Frames.text('wait'))
  const running = task.run()
  setTimeout(() => void task.cancel(), 5)
  const status = (await running).status

  const pb = protobufSerializer()
  const audio = Frames.audioRaw({ audio: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]) })
  const back = pb.deserialize(pb.serialize(audio))
  const json = jsonSerializer()
  const app = json.deserialize(json.serialize(Frames.app('transcript', { text: 'hi', final: true })))
  return {
    out,
    status,
    protobuf: back.kind === 'data' && back.type === 'audioRaw' ? Array.from(back.audio) : null,
    json: app.kind === 'app' ? app.data : null,
    hasProcess: typeof (globalThis as { process?: unknown }).process !== 'undefined',
  }
}

main().then(
  (result) => {
    const pre = document.createElement('pre')
    pre.id = 'result'
    pre.textContent = JSON.stringify(result)
    document.body.append(pre)
  },
  (err: unknown) => {
    const pre = document.createElement('pre')
    pre.id = 'result'
    pre.textContent = JSON.stringify({ error: String(err) })
    document.body.append(pre)
  },
)
