/**
 * The web chat demo: an HTTP server for the page and the WebSocket transport on `/ws`, one session (one
 * `PipelineTask` running the fake LLM) per browser tab.
 *
 * Run: npm run demo:web   (then open the printed URL; PORT=… to choose the port)
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { jsonSerializer } from '../../lib/wire/json.js'
import { serve, type WebSocketPipelineServer } from '../../lib/websocket/index.js'
import { fakeLlm } from './bot.js'

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

/** Options of {@link startWebChat}. */
export interface WebChatOptions {
  readonly port?: number
  readonly host?: string
  /** Time between two words of a reply. Default 120 ms. */
  readonly wordMs?: number
}

/** A running demo. */
export interface WebChat {
  readonly url: string
  readonly transport: WebSocketPipelineServer
  close(): Promise<void>
}

/** Bundles the page's script for the browser (esbuild), starts the HTTP server and the transport. */
export async function startWebChat(options: WebChatOptions = {}): Promise<WebChat> {
  const bundle = await build({
    entryPoints: [here('./app.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  })
  const script = bundle.outputFiles[0]?.text ?? ''
  const page = readFileSync(here('./index.html'), 'utf8')
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/') res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page)
    else if (path === '/app.js') res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script)
    else res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found')
  })
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve))
  const { address, port } = http.address() as AddressInfo
  const url = `http://${address}:${port}/`
  const wordMs = options.wordMs ?? 120
  const transport = await serve({
    server: http,
    path: '/ws',
    serializers: [jsonSerializer()],
    // Only this page may open sessions from a browser.
    origins: [`http://${address}:${port}`, `http://localhost:${port}`],
    session: () => ({ processor: fakeLlm(wordMs), params: { allowInterruptions: true } }),
  })
  return {
    url,
    transport,
    async close() {
      await transport.close({ drainTimeoutMs: 0 })
      await new Promise<void>((resolve) => http.close(() => resolve()))
      http.closeAllConnections()
    },
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const chat = await startWebChat({ port: Number(process.env['PORT'] ?? 8080) })
  console.log(`web chat: open ${chat.url}  (Ctrl+C to stop)`)
  const stop = (): void => {
    void chat.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
