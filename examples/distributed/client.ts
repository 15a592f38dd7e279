/**
 * A client for the gateway: sends each question, prints what the bot says, and closes once the bot is quiet.
 *
 * Run: npx tsx examples/distributed/client.ts [ws://127.0.0.1:8080] ["tell me a story" "what time is it" …]
 */
import { WebSocket } from 'ws'

const url = process.argv[2] ?? 'ws://127.0.0.1:8080'
const questions = process.argv.length > 3 ? process.argv.slice(3) : ['tell me a story', 'what time is it']
const socket = new WebSocket(url)
// Close once the bot has been quiet for a second after the last answer started.
let quiet: ReturnType<typeof setTimeout> | undefined
const closeWhenQuiet = (): void => {
  clearTimeout(quiet)
  quiet = setTimeout(() => socket.close(), 1000)
}

socket.on('open', () => {
  for (const q of questions) {
    console.log(`> ${q}`)
    socket.send(q)
  }
})
socket.on('message', (data) => {
  const message = JSON.parse(data.toString()) as { type: string; text?: string; frames?: number; error?: string }
  closeWhenQuiet()
  if (message.type === 'spoken') console.log(`< ${message.text}`)
  else if (message.type === 'audio') console.log(`  (${message.frames} audio frames)`)
  else if (message.type === 'error') console.log(`! ${message.error}`)
})
socket.on('close', () => process.exit(0))
socket.on('error', (err) => {
  console.error(err.message)
  process.exit(1)
})
