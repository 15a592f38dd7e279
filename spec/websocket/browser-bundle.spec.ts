/**
 * The browser client bundles for the browser without Node APIs or the `ws` package: the module a bundler picks
 * through the `browser` export condition of `apipeline-ts/websocket`.
 */
import { readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname

describe('browser client bundle', () => {
  it('lib/websocket/browser.ts pulls in no node: module and not ws', async () => {
    const result = await build({
      entryPoints: [`${root}lib/websocket/browser.ts`],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    })
    const inputs = Object.keys(result.metafile.inputs)
    expect(inputs.some((p) => p.includes('lib/websocket/client.ts'))).toBe(true)
    expect(inputs.filter((p) => p.startsWith('node:') || p.includes('node_modules/ws/') || p.includes('lib/websocket/server.ts'))).toEqual([])
    const code = result.outputFiles[0]?.text ?? ''
    expect(code).not.toMatch(/from ["']ws["']|require\(["']ws["']\)/)
  })

  it('package.json maps apipeline-ts/websocket to the client-only module for browsers', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, Record<string, string>>; peerDependenciesMeta: Record<string, { optional: boolean }> }
    expect(pkg.exports['./websocket']).toEqual({
      types: './dist/lib/websocket/index.d.ts',
      browser: './dist/lib/websocket/browser.js',
      default: './dist/lib/websocket/index.js',
    })
    expect(pkg.peerDependenciesMeta['ws']?.optional).toBe(true)
  })
})
