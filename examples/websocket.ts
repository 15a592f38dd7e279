/**
 * A pipeline served over WebSocket, used three ways: as a local pipeline's stage through `remote()`, through the
 * it-* duplex of `connect()`, and by a protobuf client (what a Python client speaks).
 *
 * Run: npx tsx examples/websocket.ts
 */
import { Frames, map, pipeline, run } from '../lib/index.js'
import { protobufSerializer } from '../lib/wire/protobuf.js'
import { connect, remote, serve } from '../lib/websocket/index.js'

const shout = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`${f.text.toUpperCase()}!`) : f))
const server = await serve({
  session: (info) => {
    console.log(`session #${info.id} (${info.format}) from ${info.remoteAddress ?? '?'}`)
    return shout
  },
  onSession: (session) => void session.done.then((r) => console.log(`session #${session.id}: ${r.task?.status}, closed ${r.code} ${r.reason}`)),
})
console.log(`serving on ${server.url}`)

// 1. remote(): the served pipeline is one stage of a local one; start first, end last.
const local = pipeline(
  remote(server.url),
  map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`<${f.text}>`) : f)),
)
for await (const frame of run(local, [Frames.text('hello'), Frames.text('world')])) console.log('remote():', Frames.format(frame))

// 2. connect(): the duplex; the sink sends `end` after the frames, the source ends when the session has drained.
const conn = await connect(server.url)
void conn.sink([Frames.text('duplex')])
for await (const frame of conn.source) console.log('connect():', Frames.format(frame))

// 3. protobuf, as from Python: only media and interruption frames travel; the client closes when it is done.
const pb = await connect(server.url, { serializer: protobufSerializer() })
await pb.send(Frames.text('protobuf'))
for await (const frame of pb.source) {
  console.log('protobuf:', Frames.format(frame))
  break // closes the connection: the session is cancelled
}
console.log('protobuf client closed:', await pb.closed)

await server.close()
