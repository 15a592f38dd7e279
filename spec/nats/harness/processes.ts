/** Child processes for the NATS specs and benchmarks: workers and callers that can really be killed. */
import { build as esbuild } from 'esbuild'
import { spawn, type ChildProcess } from 'node:child_process'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** A running child. */
export interface Child {
  readonly pid: number
  /** The words of its `ready …` line. */
  readonly ready: readonly string[]
  /** Lines it printed after `ready`. */
  readonly lines: string[]
  /** Resolves with the exit code (or signal name) once it exited. */
  readonly exited: Promise<number | string>
  kill(signal?: NodeJS.Signals): void
  /** Resolves with the first line (after ready) that satisfies `match`, or rejects after `timeoutMs`. */
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>
}

const builds = new Map<string, Promise<string>>()

/**
 * `script` (a TypeScript file of this repository) bundled with esbuild into plain JavaScript under
 * `node_modules/.cache/apipeline-nats/` (packages stay external), so a child starts in plain node: quick even on a
 * loaded machine, and without a loader's memory in its RSS.
 */
function compiled(script: string): Promise<string> {
  let build = builds.get(script)
  if (build === undefined) {
    const outfile = join(root, 'node_modules', '.cache', 'apipeline-nats', `${basename(script, '.ts')}.mjs`)
    build = esbuild({
      entryPoints: [join(root, script)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    }).then(() => outfile)
    builds.set(script, build)
  }
  return build
}

/** Starts `script` (bundled, in plain node) from the repository root; resolves once it prints `ready …`. */
export async function spawnScript(script: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Child> {
  return start(await compiled(script), script, args, env, timeoutMs)
}

function start(file: string, script: string, args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, [file, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const listeners = new Set<() => void>()
  let stderr = ''
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  return new Promise((resolve, reject) => {
    let buffered = ''
    let readyWords: string[] | undefined
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not get ready within ${timeoutMs} ms:\n${stderr}`))
    }, timeoutMs)
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000)
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (readyWords === undefined && line.startsWith('ready')) {
          readyWords = line.split(' ').slice(1)
          clearTimeout(timer)
          resolve(handle(readyWords))
        } else {
          lines.push(line)
          for (const l of [...listeners]) l()
        }
      }
    })
    void exited.then((code) => {
      if (readyWords === undefined) {
        clearTimeout(timer)
        reject(new Error(`${script} exited (${code}) before it was ready:\n${stderr}`))
      }
    })
  })

  function handle(ready: string[]): Child {
    return {
      pid: child.pid as number,
      ready,
      lines,
      exited,
      kill: (signal = 'SIGKILL') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      },
      waitFor: (match, timeoutMs = 10_000) =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            const line = lines.find(match)
            if (line !== undefined) {
              clearTimeout(timer)
              listeners.delete(check)
              resolve(line)
            }
          }
          const timer = setTimeout(() => {
            listeners.delete(check)
            reject(new Error(`no matching line within ${timeoutMs} ms; got: ${lines.join(' | ')}\n${stderr}`))
          }, timeoutMs)
          listeners.add(check)
          check()
        }),
    }
  }
}

/** Starts a worker process (`spec/nats/fixtures/worker.ts`); `ready[0]` is its service id. */
export function spawnWorker(servers: readonly string[], subject: string, mode = 'echo', arg = '0', env: Record<string, string> = {}): Promise<Child> {
  return spawnScript('spec/nats/fixtures/worker.ts', [servers.join(','), subject, mode, arg], env)
}
