/**
 * The published shape: `npm run build` compiles lib/ to dist/, and plain Node (no TypeScript loader, no bundler)
 * imports both entry points through the package's own `exports` map.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname

describe('package', () => {
  it('builds and both entry points load in plain Node through the exports map', () => {
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' })
    expect(existsSync(`${root}dist/lib/index.js`)).toBe(true)
    expect(existsSync(`${root}dist/lib/index.d.ts`)).toBe(true)
    const script = `
      const api = await import('apipeline-ts')
      const frames = []
      for await (const f of api.run(api.pipeline(api.map((f) => f)), [api.Frames.text('x')])) frames.push(f.type)
      const testing = await import('apipeline-ts/testing')
      console.log(JSON.stringify({ frames, testing: Object.keys(testing).length > 0 }))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
    expect(JSON.parse(out.trim())).toEqual({ frames: ['start', 'text', 'end'], testing: true })
    // CommonJS consumers: require() of the ES module package works on Node >= 20.19 (require(esm)).
    const required = execFileSync(process.execPath, ['-e', "const api = require('apipeline-ts'); console.log(typeof api.pipeline + ' ' + typeof api.Frames.text)"], { cwd: root, encoding: 'utf8' })
    expect(required.trim()).toBe('function function')
  }, 120_000)
})
