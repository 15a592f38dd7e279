/**
 * Text renderings of a pipeline graph: Mermaid and Graphviz DOT.
 * @module
 */
import type { GraphEdge, GraphNode } from './describe.js'

interface RenderableGraph {
  readonly root: GraphNode
  nodes(): GraphNode[]
  edges(): GraphEdge[]
}

const INPUT = '<input>'
const OUTPUT = '<output>'

/** Stable short ids (`n0`, `n1`, …) for node paths: labels may hold any character, ids may not. */
function idsOf(graph: RenderableGraph): Map<string, string> {
  const ids = new Map<string, string>([
    [INPUT, 'input'],
    [OUTPUT, 'output'],
  ])
  graph.nodes().forEach((n, i) => ids.set(n.path, `n${i}`))
  return ids
}

function label(n: GraphNode): string {
  const marks = [n.measured ? ' ⏱' : '', n.location !== undefined ? ` @ ${n.location}` : ''].join('')
  if (n.kind === 'branch') return n.name
  if (n.kind === 'parallel' || n.kind === 'syncParallel' || n.kind === 'sequential') {
    return n.name === n.kind ? n.kind : `${n.name} (${n.kind})`
  }
  return `${n.name}${marks}`
}

const MERMAID_ENTITIES: Record<string, string> = { '#': '#35;', '"': '#quot;', '<': '#lt;', '>': '#gt;' }
const mermaidText = (text: string): string => `"${text.replace(/[#"<>]/g, (c) => MERMAID_ENTITIES[c] as string)}"`

function mermaidShape(id: string, n: GraphNode): string {
  const text = mermaidText(label(n))
  switch (n.kind) {
    case 'buffer':
      return `${id}[(${text})]`
    case 'remote':
      return `${id}{{${text}}}`
    default:
      return `${id}[${text}]`
  }
}

/** The graph as a Mermaid flowchart. */
export function renderMermaid(graph: RenderableGraph): string {
  const ids = idsOf(graph)
  const lines = ['flowchart LR', '  input(["input"])', '  output(["output"])']
  const fused: string[] = []
  const walk = (n: GraphNode, indent: string): void => {
    const id = ids.get(n.path) as string
    if (n.children.length > 0) {
      lines.push(`${indent}subgraph ${id}[${mermaidText(label(n))}]`)
      for (const child of n.children) walk(child, `${indent}  `)
      lines.push(`${indent}end`)
      return
    }
    lines.push(`${indent}${mermaidShape(id, n)}`)
    if (n.fused) fused.push(id)
  }
  for (const child of graph.root.children) walk(child, '  ')
  for (const e of graph.edges()) lines.push(`  ${ids.get(e.from) as string} --> ${ids.get(e.to) as string}`)
  if (fused.length > 0) {
    lines.push('  classDef fused stroke-dasharray: 4 3')
    lines.push(`  class ${fused.join(',')} fused`)
  }
  return lines.join('\n')
}

const dotText = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

/** The graph as a Graphviz digraph. */
export function renderDot(graph: RenderableGraph): string {
  const ids = idsOf(graph)
  const lines = [
    'digraph pipeline {',
    '  rankdir=LR;',
    '  node [shape=box, fontname="Helvetica"];',
    '  input [shape=oval, label="input"];',
    '  output [shape=oval, label="output"];',
  ]
  const walk = (n: GraphNode, indent: string): void => {
    const id = ids.get(n.path) as string
    if (n.children.length > 0) {
      lines.push(`${indent}subgraph cluster_${id} {`)
      lines.push(`${indent}  label=${dotText(label(n))};`)
      lines.push(`${indent}  style=${n.kind === 'branch' ? 'dotted' : 'rounded'};`)
      for (const child of n.children) walk(child, `${indent}  `)
      lines.push(`${indent}}`)
      return
    }
    const shape = n.kind === 'buffer' ? 'cylinder' : n.kind === 'remote' ? 'hexagon' : 'box'
    const style = n.fused ? ', style=dashed' : ''
    lines.push(`${indent}${id} [label=${dotText(label(n))}, shape=${shape}${style}];`)
  }
  for (const child of graph.root.children) walk(child, '  ')
  for (const e of graph.edges()) lines.push(`  ${ids.get(e.from) as string} -> ${ids.get(e.to) as string};`)
  lines.push('}')
  return lines.join('\n')
}
