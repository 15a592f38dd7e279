/**
 * The library in a real browser: the core, combinators, a buffered stage and both wire formats are bundled for the
 * browser platform (a Node-only import would fail the build) and run in headless Chromium, where `process` does not
 * exist. CI installs Chromium (`.ci/run`); elsewhere the test is skipped with a reason when Chromium is missing.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { chromiumArgs } from '../helpers/chromium.js'

const root = new URL('../../', import.meta.url).pathname
const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
const chromium = candidates.find((p) => existsSync(p))

describe('browser', () => {
  if (chromium === undefined) {
    if (process.env['CI'] !== undefined) {
      it('needs Chromium in CI', () => {
        throw new Error(`Chromium not found (tried ${candidates.join(', ')}); .ci/run installs it`)
      })
    } else {
      it.skip('skipped: Chromium not found; install the Debian package chromium to run it', () => {})
    }
    return
  }

  it('runs pipelines, cancel and the wire formats in headless Chromium without Node APIs', async () => {
    const bundle = await build({
      entryPoints: [join(root, 'spec/browser/entry.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    })
    const code = bundle.outputFiles[0]?.text ?? ''
    const dir = mkdtempSync(join(tmpdir(), 'apipeline-browser-'))
    try {
      const page = join(dir, 'index.html')
      writeFileSync(page, `<!doctype html><html><body><script type="module">${code.replaceAll('</script', '<\\/script')}</script></body></html>`)
      const dom = execFileSync(
        chromium,
        [
          ...chromiumArgs(dir),
          '--virtual-time-budget=10000',
          '--dump-dom',
          `file://${page}`,
        ],
        { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
      )
      const match = /<pre id="result">([^<]*)<\/pre>/.exec(dom)
      expect(match, 'the page wrote no result').not.toBeNull()
      const text = (match?.[1] ?? '').replaceAll('&quot;', '"').replaceAll('&amp;', '&')
      const result = JSON.parse(text) as Record<string, unknown>
      expect(result).toEqual({
        out: ['start', 'A', 'B', 'end'],
        status: 'cancelled',
        protobuf: [0, 1, 2, 3, 4, 5, 6, 7],
        json: { text: 'hi', final: true },
        hasProcess: false,
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
