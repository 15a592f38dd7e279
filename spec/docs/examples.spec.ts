/**
 * Every code example of the documentation compiles: the `@example` blocks of the TSDoc in lib/ (they are in the
 * published .d.ts files too) and the ```ts blocks of README.md, type-checked in one TypeScript program against the
 * public entry points ('apipeline-ts' and 'apipeline-ts/<entry>' resolve to the sources).
 *
 * An example may leave out its imports from the main entry point (short TSDoc examples do): the names it uses that it
 * does not declare are imported from 'apipeline-ts' (from 'apipeline-ts/testing' too, for examples of lib/testing), or
 * from its own module for the internal helpers of lib/ that no entry point exports. It may also use, without declaring
 * them, the placeholder names of {@link PLACEHOLDERS} (`bot`, `llm`, `ctx`, `frame`, `input`, ...): the parts of a
 * program an example does not show. Every other name must be declared in the example.
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { allExamples, type Example } from './extract.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** The names a module exports, each with whether it is a type only, read from its source by the compiler. */
function exportsOf(program: ts.Program, file: string): Map<string, boolean> {
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  if (source === undefined) throw new Error(`no source file ${file}`)
  const symbol = checker.getSymbolAtLocation(source)
  const out = new Map<string, boolean>()
  for (const s of symbol === undefined ? [] : checker.getExportsOfModule(symbol)) {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s
    out.set(s.getName(), (target.flags & ts.SymbolFlags.Value) === 0)
  }
  return out
}

/** Ambient declarations of the placeholders examples use for the parts of a program they leave out. */
const PLACEHOLDERS = `
type P = import('apipeline-ts').Processor
type F = import('apipeline-ts').Frame
declare const fc: typeof import('fast-check').default
declare const vi: typeof import('vitest').vi
declare const expect: typeof import('vitest').expect
declare const test: typeof import('vitest').test
declare const it: typeof import('vitest').it
declare const bot: P, llm: P, tts: P, stt: P, asr: P, vad: P, upper: P, nonEmpty: P, p: P, processor: P, myProcessor: P
declare const myPipeline: P, idleProcessor: P, idleNotifier: P, idleWatcher: P
declare function myWrapper(p: import('apipeline-ts').ProcessorFn): P
declare const frame: F
declare const frames: F[]
declare const input: F[]
declare const ctx: import('apipeline-ts').ProcessorContext
declare const task: import('apipeline-ts').PipelineTask
declare const notifier: import('apipeline-ts').EventNotifier
declare const socket: import('node:events').EventEmitter & { send(data: unknown): void }
declare const device: { play(audio: Uint8Array, options: { signal: AbortSignal }): Promise<void> }
declare const player: { stop(): void }
declare const socketMessages: AsyncIterable<Uint8Array>
declare const url: string
declare const bytes: Uint8Array
declare const text: string
declare function log(...values: unknown[]): void
declare function myLog(...values: unknown[]): void
declare function use(value: unknown): void
declare function send(value: unknown): void
declare function play(value: unknown): void
declare function stopSpeaking(): void
declare function isAllowed(text: string, signal: AbortSignal): Promise<boolean>
declare const recordToDisk: P
declare function translateApi(text: string, options: { signal: AbortSignal }): Promise<string>
declare function model(text: string, signal: AbortSignal): AsyncIterable<string>
declare function synth(text: string, signal: AbortSignal): Promise<Uint8Array>
`

const declares = (code: string, name: string): boolean =>
  new RegExp(`(?:\\b(?:const|let|var|function\\*?|class|type|interface|enum)\\s+|import[^;\\n]*\\b)${name}\\b`).test(code)
const uses = (code: string, name: string): boolean => new RegExp(`(?<![.\\w$'"])${name}\\b`).test(code)

/** The example with imports for the names it uses without declaring them: from each module, the first that has it. */
function withImports(example: Example, modules: readonly [specifier: string, exports: Map<string, boolean>][]): string {
  const taken = new Set<string>()
  const lines: string[] = []
  for (const [specifier, exported] of modules) {
    const names: string[] = []
    for (const [name, typeOnly] of exported) {
      if (taken.has(name) || !uses(example.code, name) || declares(example.code, name)) continue
      taken.add(name)
      names.push(typeOnly ? `type ${name}` : name)
    }
    if (names.length > 0) lines.push(`import { ${names.join(', ')} } from '${specifier}'`)
  }
  // Relative imports of an example of lib/ are relative to its source file.
  const code = example.file.startsWith('lib/')
    ? example.code.replace(/from '(\.\.?\/[^']+)'/g, (_m, rel: string) => `from '${join(root, dirname(example.file), rel)}'`)
    : example.code
  // One line, so that the example's own line numbers stay right below it.
  return `${lines.join('; ')}\n${code}\nexport {}\n`
}

describe('documentation examples', () => {
  it('every @example of lib/ and every ts block of README.md type-checks against the public API', () => {
    const examples = allExamples(root)
    expect(examples.length).toBeGreaterThan(100)

    const config = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p))
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
    const options: ts.CompilerOptions = {
      ...parsed.options,
      noEmit: true,
      // Examples show a few lines of a program: unused names are fine there.
      noUnusedLocals: false,
      noUnusedParameters: false,
      baseUrl: root,
      paths: {
        'apipeline-ts': ['lib/index.ts'],
        'apipeline-ts/*': ['lib/*/index.ts'],
      },
    }
    const entries = { main: join(root, 'lib/index.ts'), testing: join(root, 'lib/testing/index.ts') }
    expect(existsSync(entries.testing)).toBe(true)
    const sources = [...new Set(examples.filter((e) => e.file.startsWith('lib/')).map((e) => join(root, e.file)))]
    const api = ts.createProgram([entries.main, entries.testing, ...sources], options)
    const main = exportsOf(api, entries.main)
    const testing = exportsOf(api, entries.testing)
    const modulesFor = (example: Example): [string, Map<string, boolean>][] => {
      const list: [string, Map<string, boolean>][] = [['apipeline-ts', main]]
      if (example.file.startsWith('lib/testing/')) list.push(['apipeline-ts/testing', testing])
      // Internal helpers no entry point exports: from their own module.
      if (example.file.startsWith('lib/')) list.push([join(root, example.file).replace(/\.ts$/, '.js'), exportsOf(api, join(root, example.file))])
      return list
    }

    // The examples live as .mts files (ES modules, top-level await) in a directory of their own.
    const dir = join(root, 'spec/docs/__examples__')
    const files = new Map<string, { example: Example; text: string }>()
    examples.forEach((example, i) => {
      const name = `${example.file.replace(/[^\w]+/g, '_')}_${String(i).padStart(3, '0')}.mts`
      files.set(join(dir, name), { example, text: withImports(example, modulesFor(example)) })
    })
    const host = ts.createCompilerHost(options)
    const readFile = host.readFile.bind(host)
    const fileExists = host.fileExists.bind(host)
    const getSourceFile = host.getSourceFile.bind(host)
    host.readFile = (f) => files.get(resolve(f))?.text ?? readFile(f)
    host.fileExists = (f) => files.has(resolve(f)) || fileExists(f)
    host.getSourceFile = (f, lang, onError, create) => {
      const virtual = files.get(resolve(f))
      return virtual !== undefined ? ts.createSourceFile(f, virtual.text, lang, true) : getSourceFile(f, lang, onError, create)
    }
    const placeholders = join(dir, 'placeholders.d.ts')
    files.set(placeholders, { example: { where: 'placeholders:0', file: 'placeholders', code: PLACEHOLDERS }, text: PLACEHOLDERS })
    const program = ts.createProgram({ rootNames: [...files.keys()], options, host, oldProgram: api })
    const problems: string[] = []
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...[...files.keys()].flatMap((f) => {
        const sf = program.getSourceFile(f)
        return sf === undefined ? [] : [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
      }),
    ]
    for (const diagnostic of diagnostics) {
      const file = diagnostic.file
      const virtual = file === undefined ? undefined : files.get(resolve(file.fileName))
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ')
      if (virtual === undefined || file === undefined || diagnostic.start === undefined) {
        problems.push(`${file?.fileName ?? '(program)'}: ${message}`)
        continue
      }
      const { line } = file.getLineAndCharacterOfPosition(diagnostic.start)
      const [source, first] = virtual.example.where.split(':')
      problems.push(`${source}:${Number(first) + line} (example at ${virtual.example.where}): ${message}`)
    }
    expect(problems, problems.join('\n')).toEqual([])
  }, 120_000)
})
