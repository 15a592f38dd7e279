/**
 * The web chat page: plain TypeScript on the browser's WebSocket (bundled with esbuild by the demo server).
 * Type a message, watch the reply stream in word by word, press Stop to interrupt it.
 */
import { Frames, type Frame } from '../../lib/index.js'
import { connect } from '../../lib/websocket/browser.js'

/** What the page saw, in order (read by the end-to-end spec). */
type ChatEvent = { readonly t: 'word'; readonly word: string } | { readonly t: 'stop' } | { readonly t: 'ack' } | { readonly t: 'done' }
const events: ChatEvent[] = []
;(globalThis as { chatEvents?: ChatEvent[] }).chatEvents = events

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T
const log = byId<HTMLDivElement>('log')
const form = byId<HTMLFormElement>('form')
const input = byId<HTMLInputElement>('message')
const stop = byId<HTMLButtonElement>('stop')
const status = byId<HTMLDivElement>('status')

let reply: HTMLDivElement | undefined

function line(cls: string, text: string): HTMLDivElement {
  const div = document.createElement('div')
  div.className = cls
  div.textContent = text
  log.append(div)
  log.scrollTop = log.scrollHeight
  return div
}

function show(frame: Frame): void {
  if (frame.kind === 'data' && frame.type === 'text') {
    reply ??= line('bot', '')
    reply.textContent += frame.text
    events.push({ t: 'word', word: frame.text })
    status.textContent = 'streaming…'
  } else if (frame.kind === 'system' && frame.type === 'startInterruption') {
    events.push({ t: 'ack' })
    status.textContent = 'interrupted (acknowledged by the server)'
  } else if (frame.kind === 'app' && frame.type === 'replyDone') {
    events.push({ t: 'done' })
    reply = undefined
    status.textContent = 'ready'
  }
}

const conn = await connect(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`)
status.textContent = 'ready'

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const text = input.value.trim()
  if (text === '') return
  input.value = ''
  if (reply !== undefined) conn.interrupt()
  reply = undefined
  line('user', text)
  void conn.send(Frames.text(text))
})

stop.addEventListener('click', () => {
  events.push({ t: 'stop' })
  conn.interrupt()
  reply?.classList.add('interrupted')
  reply = undefined
  status.textContent = 'interrupting…'
})

try {
  for await (const frame of conn.source) show(frame)
  status.textContent = 'the server closed the session'
} catch (err) {
  status.textContent = `disconnected: ${err instanceof Error ? err.message : String(err)}`
}
