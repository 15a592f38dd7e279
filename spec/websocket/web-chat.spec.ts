/**
 * The web chat demo in a real browser: headless Chromium (Debian's package, driven by puppeteer-core) types a
 * message, watches the reply stream in, presses Stop, and checks that no word arrives after the server acknowledged
 * the interruption. A screenshot is saved under the test's temp dir.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startWebChat } from '../../examples/web-chat/server.js'
import { inCI, sleep } from './helpers.js'
import { CHROMIUM_PATH, chromiumArgs } from '../helpers/chromium.js'

const CHROMIUM = CHROMIUM_PATH

type ChatEvent = { t: 'word'; word: string } | { t: 'stop' } | { t: 'ack' } | { t: 'done' }

describe('web chat in headless Chromium', () => {
  if (!existsSync(CHROMIUM)) {
    if (inCI) it('needs Chromium in CI', () => expect.fail(`${CHROMIUM} not found; .ci/run installs chromium`))
    else it.skip(`skipped: ${CHROMIUM} not found (install the Debian package chromium)`, () => {})
    return
  }

  it('streams a reply word by word, and Stop interrupts it: no word after the acknowledgement', async () => {
    const { launch } = await import('puppeteer-core')
    const dir = mkdtempSync(join(tmpdir(), 'apipeline-web-chat-'))
    const chat = await startWebChat({ wordMs: 40 })
    const browser = await launch({
      executablePath: CHROMIUM,
      headless: true,
      args: chromiumArgs(dir),
    })
    try {
      const page = await browser.newPage()
      const pageErrors: string[] = []
      page.on('pageerror', (err) => pageErrors.push(String(err)))
      await page.goto(chat.url, { timeout: 30_000 })
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', { timeout: 30_000 })
      const events = (): Promise<ChatEvent[]> => page.evaluate(() => [...((globalThis as { chatEvents?: ChatEvent[] }).chatEvents ?? [])])

      // Type a message; the reply streams in.
      await page.type('#message', 'tell me about pipelines')
      await page.click('#send')
      await page.waitForFunction(() => ((globalThis as { chatEvents?: { t: string }[] }).chatEvents ?? []).filter((e) => e.t === 'word').length >= 5, { timeout: 30_000 })
      const botText = await page.$eval('.bot', (el) => el.textContent ?? '')
      expect(botText.startsWith('You said "tell me')).toBe(true)

      // Stop: the server acknowledges with startInterruption; nothing of that reply arrives afterwards.
      await page.click('#stop')
      await page.waitForFunction(() => ((globalThis as { chatEvents?: { t: string }[] }).chatEvents ?? []).some((e) => e.t === 'ack'), { timeout: 30_000 })
      await sleep(600) // 15 word intervals: the reply would have gone on
      const afterStop = await events()
      const ack = afterStop.findIndex((e) => e.t === 'ack')
      const stop = afterStop.findIndex((e) => e.t === 'stop')
      expect(stop).toBeGreaterThan(0)
      expect(ack).toBeGreaterThan(stop)
      expect(afterStop.slice(ack + 1).filter((e) => e.t === 'word')).toEqual([])
      expect(afterStop.slice(stop + 1).filter((e) => e.t === 'word')).toEqual([])
      expect(afterStop.some((e) => e.t === 'done')).toBe(false)
      expect(await page.$eval('#status', (el) => el.textContent)).toMatch(/acknowledged/)
      const replyWords = (await page.$eval('.bot', (el) => el.textContent ?? '')).split(' ').length
      expect(replyWords).toBeLessThan(40)

      // The session goes on: the next message gets a full reply.
      await page.type('#message', 'and again')
      await page.click('#send')
      await page.waitForFunction(() => ((globalThis as { chatEvents?: { t: string }[] }).chatEvents ?? []).some((e) => e.t === 'done'), { timeout: 30_000 })
      const bots = await page.$$eval('.bot', (els) => els.map((el) => el.textContent ?? ''))
      expect(bots[1]?.startsWith('You said "and again".')).toBe(true)
      expect(bots[1]?.endsWith('speak again.')).toBe(true)

      const shot = join(dir, 'web-chat.png')
      await page.screenshot({ path: shot })
      expect(existsSync(shot)).toBe(true)
      console.log(`web chat screenshot: ${shot}`)
      expect(pageErrors).toEqual([])
      expect(chat.transport.sessions.size).toBe(1)
    } finally {
      await browser.close()
      await chat.close()
      // The screenshot stays (web-chat.png in the test's temp dir); the browser profile goes.
      rmSync(join(dir, 'profile'), { recursive: true, force: true })
    }
  }, 90_000)
})
