/**
 * What `npm pack` ships: the licence, the README, the sources and compiled entry points, the protobuf schema and the
 * examples the README links to; no specs, benchmarks or tooling.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname

interface PackEntry {
  readonly path: string
}

function packedFiles(): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })
  const [pack] = JSON.parse(out) as [{ files: PackEntry[] }]
  return pack.files.map((f) => f.path).sort()
}

describe('npm pack', () => {
  it('ships the licence, the README, sources, schema and every example the README links to, and nothing else', () => {
    const files = packedFiles()
    for (const required of ['LICENSE', 'README.md', 'package.json', 'lib/index.ts', 'lib/testing/index.ts', 'proto/frames.proto']) {
      expect(files, required).toContain(required)
    }
    expect(readFileSync(`${root}LICENSE`, 'utf8')).toMatch(/BSD 3-Clause License[\s\S]*The apipeline-ts authors/)
    const readme = readFileSync(`${root}README.md`, 'utf8')
    const linked = [...new Set([...readme.matchAll(/`(examples\/[\w./-]+\.ts)`/g)].map((m) => m[1] as string))]
    expect(linked.length).toBeGreaterThan(3)
    for (const example of linked) {
      expect(existsSync(`${root}${example}`), `${example} exists`).toBe(true)
      expect(files, `${example} is packed`).toContain(example)
    }
    const unwanted = files.filter((f) => /^(spec|bench|scripts|scratch|node_modules|\.ci|docs)\//.test(f) || f.endsWith('.spec.ts'))
    expect(unwanted).toEqual([])
    // The compiled entry points named by the exports map are packed when built.
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, { types: string; default: string }> }
    for (const entry of Object.values(pkg.exports)) {
      for (const target of [entry.types, entry.default]) {
        const path = target.replace(/^\.\//, '')
        if (existsSync(`${root}${path}`)) expect(files).toContain(path)
        else expect(path.startsWith('dist/lib/')).toBe(true)
      }
    }
  }, 60_000)

  it('the package.json "files" cover every exports target', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { files: string[]; exports: Record<string, { types: string; default: string }> }
    for (const entry of Object.values(pkg.exports)) {
      for (const target of [entry.types, entry.default]) expect(pkg.files.some((f) => target.replace(/^\.\//, '').startsWith(f))).toBe(true)
    }
  })
})
