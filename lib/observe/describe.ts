/**
 * `describe(processor)`: the structure of a pipeline as data — serial stages, fan-out branches, named groups,
 * queue stages, fused operators, measuring and remote stages — with the same names the running pipeline gives its
 * processors, so observed frames can be placed on the graph.
 * @module
 */
import { processorInfo, processorName, type ProcessorFn } from '../core/processor.js'
import { renderDot, renderMermaid } from './graph-render.js'

/**
 * What a node of the graph is.
 * @example
 * ```ts
 * import { describe, type GraphNodeKind } from 'apipeline-ts'
 * const kinds: GraphNodeKind[] = describe(bot).nodes().map((n) => n.kind)
 * ```
 */
export type GraphNodeKind =
  | 'pipeline'
  | 'processor'
  | 'parallel'
  | 'syncParallel'
  | 'sequential'
  | 'branch'
  | 'buffer'
  | 'remote'

/**
 * One node of a pipeline graph. Leaves are processors; `pipeline`, fan-out and `branch` nodes have children.
 * @example
 * ```ts
 * import { describe, pipeline, map } from 'apipeline-ts'
 * const node = describe(pipeline(map((f) => f, 'upper'))).root.children[0]
 * node?.path // 'upper'
 * ```
 */
export interface GraphNode {
  /**
   * The processor's path below the task, as observers see it after the task's name: `stt`, `fan/branch1/tts`.
   * The root's path is `''`.
   */
  readonly path: string
  /** The display name (the last part of the path). */
  readonly name: string
  readonly kind: GraphNodeKind
  /** Children in order: stages of a pipeline or branch, branches of a fan-out element. */
  readonly children: readonly GraphNode[]
  /** True for a per-frame operator that runs fused with its neighbours (in one async hop). */
  readonly fused: boolean
  /** True for a processor that reports TTFB and processing metrics (`measured()`). */
  readonly measured: boolean
  /** For remote stages: where they run. */
  readonly location?: string
}

/**
 * An edge between two leaves (or the `input`/`output` ends, whose paths are those words in angle brackets).
 * @example
 * ```ts
 * import { describe, type GraphEdge } from 'apipeline-ts'
 * const lines = describe(bot).edges().map((e: GraphEdge) => `${e.from} -> ${e.to}`)
 * ```
 */
export interface GraphEdge {
  readonly from: string
  readonly to: string
}

/**
 * The `input` end of every graph.
 * @example
 * ```ts
 * import { describe, GRAPH_INPUT } from 'apipeline-ts'
 * const first = describe(bot).edges().filter((e) => e.from === GRAPH_INPUT)
 * ```
 */
export const GRAPH_INPUT = '<input>'
/**
 * The `output` end of every graph.
 * @example
 * ```ts
 * import { describe, GRAPH_OUTPUT } from 'apipeline-ts'
 * const last = describe(bot).edges().filter((e) => e.to === GRAPH_OUTPUT)
 * ```
 */
export const GRAPH_OUTPUT = '<output>'

/**
 * The structure of a pipeline, with renderings.
 * @example
 * ```ts
 * import { describe, pipeline, parallel, map } from 'apipeline-ts'
 * const graph = describe(pipeline(map((f) => f, 'stt'), parallel(map((f) => f, 'a'), map((f) => f, 'b'))))
 * graph.leaves().map((n) => n.path) // ['stt', 'parallel/branch0/a', 'parallel/branch1/b']
 * console.log(graph.toMermaid())
 * ```
 */
export interface PipelineGraph {
  /** The task-level pipeline around the processor. */
  readonly root: GraphNode
  /** Every node, depth first, in pipeline order. */
  nodes(): GraphNode[]
  /** The processors (leaves), in pipeline order. */
  leaves(): GraphNode[]
  /** How frames flow between leaves, from `<input>` to `<output>`. */
  edges(): GraphEdge[]
  /** The node observers name `processor` (a path-qualified name such as `PipelineTask#0/stt`), if any. */
  find(processor: string, task?: string): GraphNode | undefined
  /** A Mermaid `flowchart LR`: groups as subgraphs, queue stages as cylinders, remote stages as hexagons. */
  toMermaid(): string
  /** A Graphviz `digraph`: groups as clusters. */
  toDot(): string
  /** The plain data (`root`), e.g. for JSON. */
  toJSON(): GraphNode
}

function node(path: string, kind: GraphNodeKind, children: GraphNode[] = [], extra: { fused?: boolean; measured?: boolean; location?: string } = {}): GraphNode {
  const name = path === '' ? '' : (path.split('/').at(-1) as string)
  const base = { path, name, kind, children, fused: extra.fused ?? false, measured: extra.measured ?? false }
  return extra.location === undefined ? base : { ...base, location: extra.location }
}

/** The stages of a pipeline as it runs them: unnamed nested pipelines inlined. */
function flatStages(stages: readonly ProcessorFn<any, any>[]): ProcessorFn<any, any>[] {
  const flat: ProcessorFn<any, any>[] = []
  for (const stage of stages) {
    const info = processorInfo(stage)
    if (info?.stages !== undefined && info.name === undefined) flat.push(...flatStages(info.stages))
    else flat.push(stage)
  }
  return flat
}

const join = (parent: string, name: string): string => (parent === '' ? name : `${parent}/${name}`)

/** The nodes of a pipeline's stages under `parent`, named as the pipeline names their contexts. */
function describeStages(stages: readonly ProcessorFn<any, any>[], parent: string, depth: number): GraphNode[] {
  if (depth > 64) throw new RangeError('describe(): pipeline nested more than 64 levels deep')
  const flat = flatStages(stages)
  const used = new Map<string, number>()
  const nodes: GraphNode[] = []
  flat.forEach((stage, i) => {
    let base = processorName(stage, `stage${i}`)
    const seen = used.get(base) ?? 0
    used.set(base, seen + 1)
    if (seen > 0) base = `${base}#${seen}`
    const isStep = (p: ProcessorFn<any, any> | undefined): boolean => p !== undefined && processorInfo(p)?.step !== undefined
    const fused = isStep(stage) && (isStep(flat[i - 1]) || isStep(flat[i + 1]))
    nodes.push(describeOne(stage, join(parent, base), depth, fused))
  })
  return nodes
}

function describeOne(stage: ProcessorFn<any, any>, path: string, depth: number, fused: boolean): GraphNode {
  const info = processorInfo(stage)
  const measured = info?.metrics === true
  const kind = info?.kind
  if ((kind === 'parallel' || kind === 'syncParallel' || kind === 'sequential') && info?.branches !== undefined) {
    const branches = info.branches.map((branch, b) => {
      const branchPath = `${path}/branch${b}`
      const inner = processorInfo(branch)?.stages
      const children = inner !== undefined ? describeStages(inner, branchPath, depth + 1) : describeStages([branch], branchPath, depth + 1)
      return node(branchPath, 'branch', children)
    })
    return node(path, kind, branches, { measured })
  }
  if (kind === 'buffer') return node(path, 'buffer', [], { measured })
  if (kind === 'remote') return node(path, 'remote', [], info?.location === undefined ? { measured } : { measured, location: info.location })
  if (info?.stages !== undefined) return node(path, 'pipeline', describeStages(info.stages, path, depth + 1), { measured })
  return node(path, 'processor', [], { fused, measured })
}

const isGroup = (n: GraphNode): boolean => n.children.length > 0

function entries(n: GraphNode): string[] {
  if (!isGroup(n)) return [n.path]
  if (n.kind === 'pipeline' || n.kind === 'branch') return entries(n.children[0] as GraphNode)
  return n.children.flatMap(entries)
}

function exits(n: GraphNode): string[] {
  if (!isGroup(n)) return [n.path]
  if (n.kind === 'pipeline' || n.kind === 'branch') return exits(n.children.at(-1) as GraphNode)
  return n.children.flatMap(exits)
}

function collectEdges(n: GraphNode, out: GraphEdge[]): void {
  const serial = n.kind === 'pipeline' || n.kind === 'branch'
  n.children.forEach((child, i) => {
    collectEdges(child, out)
    const next = n.children[i + 1]
    if (!serial || next === undefined) return
    for (const from of exits(child)) for (const to of entries(next)) out.push({ from, to })
  })
}

class Graph implements PipelineGraph {
  constructor(readonly root: GraphNode) {}

  nodes(): GraphNode[] {
    const out: GraphNode[] = []
    const walk = (n: GraphNode): void => {
      out.push(n)
      n.children.forEach(walk)
    }
    this.root.children.forEach(walk)
    return out
  }

  leaves(): GraphNode[] {
    return this.nodes().filter((n) => !isGroup(n))
  }

  edges(): GraphEdge[] {
    const out: GraphEdge[] = []
    if (!isGroup(this.root)) {
      out.push({ from: GRAPH_INPUT, to: GRAPH_OUTPUT })
      return out
    }
    for (const to of entries(this.root)) out.push({ from: GRAPH_INPUT, to })
    collectEdges(this.root, out)
    for (const from of exits(this.root)) out.push({ from, to: GRAPH_OUTPUT })
    return out
  }

  find(processor: string, task?: string): GraphNode | undefined {
    let path = processor
    if (task !== undefined) {
      if (!processor.startsWith(`${task}/`)) return undefined
      path = processor.slice(task.length + 1)
    }
    return this.nodes().find((n) => n.path === path) ?? (task === undefined ? this.nodes().find((n) => processor.endsWith(`/${n.path}`)) : undefined)
  }

  toMermaid(): string {
    return renderMermaid(this)
  }

  toDot(): string {
    return renderDot(this)
  }

  toJSON(): GraphNode {
    return this.root
  }
}

/**
 * The structure of `processor` as a task runs it (`new PipelineTask(processor)` or `run(processor, …)`): paths are
 * the names its processors get below the task's name, e.g. `PipelineTask#0/fan/branch1/tts` → `fan/branch1/tts`.
 * Serial stages, `parallel`/`syncParallel`/`sequential` branches, named groups (`named('bot', pipeline(…))`), queue
 * stages (`buffer`, `buffered`), fused operators, `measured` processors and remote stages are told apart.
 *
 * @example
 * ```ts
 * import { describe, pipeline, parallel, buffered, map, named } from 'apipeline-ts'
 *
 * const stt = map((f) => f, 'stt')
 * const llm = named('llm', async function* (source) { yield* source })
 * const graph = describe(pipeline(stt, buffered(llm), parallel(map((f) => f, 'tts'), map((f) => f, 'log'))))
 * console.log(graph.toMermaid()) // flowchart LR … stt --> llm --> buffer --> tts / log …
 * ```
 */
export function describe(processor: ProcessorFn<any, any>): PipelineGraph {
  if (typeof processor !== 'function') throw new TypeError('describe(processor): processor must be a function')
  return new Graph(node('', 'pipeline', describeStages([processor], '', 0)))
}

/**
 * A graph from its plain data (`graph.toJSON()`, e.g. read back from a trace file).
 * @example
 * ```ts
 * import { describe, graphFromJSON } from 'apipeline-ts'
 * const copy = graphFromJSON(JSON.parse(JSON.stringify(describe(bot))))
 * copy.toMermaid()
 * ```
 */
export function graphFromJSON(root: GraphNode): PipelineGraph {
  if (root === null || typeof root !== 'object' || !Array.isArray(root.children)) throw new TypeError('graphFromJSON(root): not a graph node')
  return new Graph(root)
}
