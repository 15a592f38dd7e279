/**
 * The gateway: a WebSocket server where one connection is one session, and the session's bot runs on some worker:
 * `pipeline(remote(nc, 'bot'))` between the socket's messages and the socket. The gateway itself does no bot work,
 * so one gateway holds many sessions while the workers, on any machine of the NATS cluster, do the heavy stages.
 *
 * Messages: the client sends text (one question per message); the gateway sends JSON lines
 * `{"type":"spoken","text":…}`, `{"type":"audio","frames":n}` (counted per sentence) and `{"type":"error",…}`.
 *
 * Run: npx tsx examples/distributed/gateway.ts [nats-servers; default nats://127.0.0.1:4222] [port; default 8080]
 */
import { connect } from '@nats-io/transport-node'
import { WebSocketServer } from 'ws'
import { Frames, PipelineTask, pipeline } from '../../lib/index.js'
import { remote } from '../../lib/nats/index.js'

const servers = (process.argv[2] ?? 'nats://127.0.0.1:4222').split(',')
const port = Number(process.argv[3] ?? 8080)
const nc = await connect({ servers, name: 'bot-gateway', maxReconnectAttempts: -1 })
const wss = new WebSocketServer({ host: '127.0.0.1', port })
console.log(`[gateway] ws://127.0.0.1:${port} → NATS ${nc.getServer()} subject "bot"`)

wss.on('connection', (socket) => {
  const task = new PipelineTask(pipeline(remote(nc, 'bot')), {
    allowInterruptions: true,
    onUpstream: (frame) => {
      if (frame.kind === 'system' && frame.type === 'error') socket.send(JSON.stringify({ type: 'error', error: frame.error, fatal: frame.fatal }))
    },
  })
  let audio = 0
  void (async () => {
    for await (const frame of task.frames()) {
      if (frame.kind === 'data' && frame.type === 'audioRaw') audio++
      else if (frame.kind === 'app' && frame.type === 'spoken') {
        socket.send(JSON.stringify({ type: 'audio', frames: audio }))
        socket.send(JSON.stringify({ type: 'spoken', text: (frame.data as { text: string }).text }))
        audio = 0
      }
    }
  })()
  void task.run().then((result) => {
    console.log(`[gateway] session ${result.status}${result.error ? `: ${result.error.error}` : ''}`)
    socket.close()
  })
  socket.on('message', (data) => {
    const text = data.toString()
    if (text === '/interrupt') task.interrupt()
    else void task.queueFrame(Frames.text(text))
  })
  socket.on('close', () => task.stopWhenDone())
})

const shutdown = (): void => {
  wss.close()
  void nc.drain().then(() => process.exit(0))
}
process.once('SIGTERM', shutdown)
process.once('SIGINT', shutdown)
