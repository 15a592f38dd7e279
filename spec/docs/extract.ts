/**
 * Extracts the code examples of the documentation: every `@example` block of the TSDoc in lib/, and every ```ts block
 * of README.md. Used by the examples spec.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** One code example: where it comes from and its source. */
export interface Example {
  /** `lib/core/run.ts:42` or `README.md:17`: the file and the line of the opening fence. */
  readonly where: string
  /** The file it comes from, relative to the repository. */
  readonly file: string
  readonly code: string
}

function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...tsFiles(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out.sort()
}

/** The ```ts fenced blocks of `lines` (already stripped of comment markers), with their first line numbers. */
function fencedBlocks(lines: readonly string[], offset = 0): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = []
  let start = -1
  let body: string[] = []
  lines.forEach((line, i) => {
    const trimmed = line.trim()
    if (start < 0 && /^```(ts|typescript)\s*$/.test(trimmed)) {
      start = i
      body = []
    } else if (start >= 0 && trimmed === '```') {
      blocks.push({ line: offset + start + 1, code: body.join('\n') })
      start = -1
    } else if (start >= 0) body.push(line)
  })
  return blocks
}

/** The `@example` blocks of one source file. */
export function examplesOfSource(root: string, path: string): Example[] {
  const file = relative(root, path)
  const lines = readFileSync(path, 'utf8').split('\n')
  const out: Example[] = []
  let inComment = false
  let inExample = false
  let commentLines: string[] = []
  let commentStart = 0
  lines.forEach((line, i) => {
    if (!inComment && /^\s*\/\*\*/.test(line)) {
      inComment = true
      inExample = false
      commentLines = []
      commentStart = i
    }
    if (inComment) {
      // Strip the ` * ` margin; keep the indentation after it.
      const stripped = line.replace(/^\s*\/\*\*\s?/, '').replace(/^\s*\*\/\s*$/, '').replace(/^\s*\* ?/, '')
      if (/^@\w+/.test(stripped.trim())) inExample = stripped.trim().startsWith('@example')
      commentLines.push(inExample ? stripped : '')
      if (/\*\//.test(line)) {
        inComment = false
        for (const block of fencedBlocks(commentLines, commentStart)) out.push({ where: `${file}:${block.line}`, file, code: block.code })
      }
    }
  })
  return out
}

/** Every `@example` of lib/ and every ```ts block of README.md. */
export function allExamples(root: string): Example[] {
  const out: Example[] = []
  for (const path of tsFiles(join(root, 'lib'))) out.push(...examplesOfSource(root, path))
  const readme = readFileSync(join(root, 'README.md'), 'utf8').split('\n')
  for (const block of fencedBlocks(readme)) out.push({ where: `README.md:${block.line}`, file: 'README.md', code: block.code })
  return out
}
