/**
 * The trace viewer in a real browser: a recorded demo session is turned into the viewer page by the CLI, opened in
 * headless Chromium (puppeteer-core), and its lanes, marks, interruption line, graph and hover are checked in the
 * DOM; a screenshot is saved (set `TRACE_SCREENSHOT=path` to keep it, e.g. for docs/trace-viewer.png).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { describe as describeGraph } from '../../lib/index.js'
import { readTrace, traceCli, traceRecorder } from '../../lib/trace/index.js'
import { demoBot, runDemoSession } from '../../examples/observe-session.js'
import { CHROMIUM_PATH, chromiumArgs } from '../helpers/chromium.js'

const chromium = CHROMIUM_PATH

describe('trace viewer', () => {
  if (!existsSync(chromium)) {
    if (process.env['CI'] !== undefined) {
      it('needs Chromium in CI', () => {
        throw new Error(`${chromium} not found; .ci/run installs it`)
      })
    } else {
      it.skip('skipped: /usr/bin/chromium not found; install the Debian package chromium to run it', () => {})
    }
    return
  }

  it('renders a recorded demo session: graph, a lane per processor, a mark per frame, the interruption, hover', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apipeline-viewer-'))
    const { default: puppeteer } = await import('puppeteer-core')
    let browser: Awaited<ReturnType<typeof puppeteer.launch>> | undefined
    try {
      const file = join(dir, 'session.jsonl')
      const recorder = traceRecorder(file, { processor: demoBot })
      const result = await runDemoSession([recorder])
      await recorder.closed
      expect(result.status).toBe('ended')
      const lines: string[] = []
      const code = await traceCli(['trace', 'view', file], { out: (l) => void lines.push(l), err: (l) => void lines.push(l), tty: false })
      expect(code, lines.join('\n')).toBe(0)
      const page = join(dir, 'session.html')
      const html = readFileSync(page, 'utf8')
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/)
      const trace = await readTrace(file)
      const leaves = describeGraph(demoBot).leaves().map((n) => n.path)

      browser = await puppeteer.launch({
        executablePath: chromium,
        headless: true,
        args: chromiumArgs(dir),
        timeout: 60_000,
      })
      const tab = await browser.newPage()
      const errors: string[] = []
      tab.on('pageerror', (err) => errors.push(String(err)))
      await tab.setViewport({ width: 1500, height: 900 })
      await tab.goto(`file://${page}`, { waitUntil: 'load', timeout: 30_000 })
      const dom = await tab.evaluate(() => ({
        lanes: Array.from(document.querySelectorAll('#timeline .lane')).map((g) => g.getAttribute('data-lane')),
        marks: document.querySelectorAll('#timeline .mark').length,
        up: document.querySelectorAll('#timeline .mark.up').length,
        interruptions: document.querySelectorAll('#timeline .interruption').length,
        ended: document.querySelectorAll('#timeline .ended').length,
        nodes: Array.from(document.querySelectorAll('#graph .node')).map((g) => g.getAttribute('data-path')),
        edges: document.querySelectorAll('#graph .edge').length,
        groups: document.querySelectorAll('#graph .group').length,
      }))
      expect(errors).toEqual([])
      expect(dom.lanes).toEqual(['input', ...leaves, 'parallel', 'output'])
      expect(dom.marks).toBe(trace.frames.length)
      expect(dom.marks).toBeGreaterThan(100)
      expect(dom.up).toBe(trace.frames.filter((f) => f.d === 'up').length)
      expect(dom.interruptions).toBe(1)
      expect(dom.ended).toBe(1)
      expect(dom.nodes).toEqual(['<input>', ...leaves, '<output>'])
      expect(dom.edges).toBe(describeGraph(demoBot).edges().length)
      expect(dom.groups).toBe(3)
      // Every lane of a processor that produced output has marks in it.
      const laneOfMark = await tab.evaluate(() => {
        const counts: Record<string, number> = {}
        const lanes = Array.from(document.querySelectorAll('#timeline .lane'))
        const tops = lanes.map((g) => Number(g.querySelector('rect')?.getAttribute('y')))
        for (const m of Array.from(document.querySelectorAll('#timeline .mark.down'))) {
          const y = Number(m.getAttribute('cy'))
          const i = tops.findIndex((top, k) => y >= top && (k === tops.length - 1 || y < (tops[k + 1] as number)))
          const name = lanes[i]?.getAttribute('data-lane') ?? '?'
          counts[name] = (counts[name] ?? 0) + 1
        }
        return counts
      })
      for (const lane of ['input', ...leaves, 'parallel', 'output']) expect(laneOfMark[lane], lane).toBeGreaterThan(0)
      // Hovering a text mark of the llm lane shows that frame.
      const llmLane = dom.lanes.indexOf('llm')
      const index = trace.frames.findIndex((f) => f.p === 'llm' && f.frame.type === 'text')
      expect(llmLane).toBeGreaterThan(0)
      await tab.hover(`#timeline .mark[data-i="${index}"]`)
      const detail = await tab.$eval('#detail', (e) => e.textContent ?? '')
      expect(detail).toContain('llm')
      expect(detail).toContain(trace.frames[index]?.frame.text as string)
      // Zooming redraws every mark.
      await tab.click('#zoom-in')
      expect(await tab.$$eval('#timeline .mark', (m) => m.length)).toBe(trace.frames.length)
      const shot = join(dir, 'trace-viewer.png')
      await tab.screenshot({ path: shot as `${string}.png`, fullPage: true })
      const png = readFileSync(shot)
      expect(png.subarray(1, 4).toString()).toBe('PNG')
      expect(png.length).toBeGreaterThan(10_000)
      const keep = process.env['TRACE_SCREENSHOT']
      if (keep !== undefined && keep !== '') {
        await tab.click('#zoom-out')
        await tab.screenshot({ path: keep as `${string}.png`, fullPage: true })
      }
    } finally {
      await browser?.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
