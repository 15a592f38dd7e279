/**
 * Real `nats-server` processes for the specs and benchmarks: one node, or a cluster of nodes with routes, on free
 * loopback ports; each node can be stopped, killed and restarted on the same ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']

/** The nats-server binary, or undefined when it is not installed. */
export function natsServerBinary(): string | undefined {
  for (const path of CANDIDATES) if (existsSync(path)) return path
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' })
  const found = which.stdout.trim()
  return which.status === 0 && found !== '' ? found : undefined
}

/** Why NATS specs cannot run here, or undefined when they can. In CI a missing server is a failure, not a skip. */
export function natsUnavailable(): string | undefined {
  if (natsServerBinary() !== undefined) return undefined
  if (process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false') {
    throw new Error('nats-server is not installed (CI installs it in .ci/run)')
  }
  return 'nats-server is not installed'
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** One running node. */
export interface NatsNode {
  readonly port: number
  readonly url: string
  /** The process id of the running server, or undefined while it is stopped. */
  readonly pid: number | undefined
  /** Stops it (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>
  /** Starts it again on the same ports (after `stop`). */
  restart(): Promise<void>
}

interface NodeConfig {
  readonly port: number
  readonly clusterPort?: number
  readonly routes?: readonly number[]
  readonly name: string
}

class Node implements NatsNode {
  private child: ChildProcess | undefined
  readonly url: string
  constructor(
    private readonly binary: string,
    private readonly config: NodeConfig,
  ) {
    this.url = `nats://127.0.0.1:${config.port}`
  }

  get port(): number {
    return this.config.port
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  async restart(): Promise<void> {
    const c = this.config
    const args = ['-a', '127.0.0.1', '-p', String(c.port), '-n', c.name]
    if (c.clusterPort !== undefined) {
      args.push('--cluster_name', 'apipeline-spec', '--cluster', `nats://127.0.0.1:${c.clusterPort}`)
      if (c.routes !== undefined && c.routes.length > 0) args.push('--routes', c.routes.map((p) => `nats://127.0.0.1:${p}`).join(','))
    }
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      let log = ''
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`nats-server on port ${c.port} did not start within 10 s:\n${log}`))
      }, 10_000)
      const onData = (chunk: Buffer): void => {
        log += chunk.toString()
        if (log.includes('Server is ready')) {
          clearTimeout(timer)
          child.stderr?.off('data', onData)
          child.stderr?.resume()
          resolve()
        }
      }
      child.stderr?.on('data', onData)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`nats-server on port ${c.port} exited with ${code}:\n${log}`))
      })
    })
  }

  stop(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000)
      child.once('exit', () => {
        clearTimeout(kill)
        resolve()
      })
      child.kill('SIGTERM')
    })
  }
}

/** Starts one node. */
export async function startNats(): Promise<NatsNode> {
  const binary = natsServerBinary()
  if (binary === undefined) throw new Error('nats-server is not installed')
  const node = new Node(binary, { port: await freePort(), name: 'single' })
  await node.restart()
  return node
}

/** Starts `size` nodes joined by routes (a full mesh), and waits until the routes are up. */
export async function startCluster(size = 2): Promise<NatsNode[]> {
  const binary = natsServerBinary()
  if (binary === undefined) throw new Error('nats-server is not installed')
  const ports: number[] = []
  const clusterPorts: number[] = []
  for (let i = 0; i < size; i++) {
    ports.push(await freePort())
    clusterPorts.push(await freePort())
  }
  const nodes = ports.map(
    (port, i) =>
      new Node(binary, {
        port,
        clusterPort: clusterPorts[i] as number,
        routes: clusterPorts.filter((_, j) => j !== i),
        name: `node${i}`,
      }),
  )
  await Promise.all(nodes.map((n) => n.restart()))
  return nodes
}
