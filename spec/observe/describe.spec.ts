import { describe, expect, it } from 'vitest'
import {
  Frames,
  buffered,
  describe as describeGraph,
  filter,
  map,
  measured,
  named,
  parallel,
  pipeline,
  run,
  sequential,
  syncParallel,
  withInfo,
  type FrameEvent,
  type Processor,
} from '../../lib/index.js'

const id = (name: string): Processor => map((f) => f, name)
const gen = (name: string): Processor =>
  named(name, async function* (source) {
    yield* source
  })

const bot = pipeline(
  id('stt'),
  filter(() => true, 'vad'),
  buffered(measured(gen('llm')), { name: 'queue' }),
  named('speak', pipeline(gen('tts'), parallel([gen('log')], [id('upper'), id('upper')]))),
  syncParallel(gen('a'), sequential(gen('b'), gen('c'))),
  withInfo(gen('far'), { kind: 'remote', location: 'nats:bot.tts' }),
)

describe('describe(processor)', () => {
  it('gives the structure with the names the running pipeline uses', () => {
    const graph = describeGraph(bot)
    expect(graph.leaves().map((n) => n.path)).toEqual([
      'stt',
      'vad',
      'llm',
      'queue',
      'speak/tts',
      'speak/parallel/branch0/log',
      'speak/parallel/branch1/upper',
      'speak/parallel/branch1/upper#1',
      'syncParallel/branch0/a',
      'syncParallel/branch1/sequential/branch0/b',
      'syncParallel/branch1/sequential/branch1/c',
      'far',
    ])
    const kinds = Object.fromEntries(graph.nodes().map((n) => [n.path, n.kind]))
    expect(kinds).toMatchObject({ speak: 'pipeline', 'speak/parallel': 'parallel', 'speak/parallel/branch0': 'branch', queue: 'buffer', syncParallel: 'syncParallel', 'syncParallel/branch1/sequential': 'sequential', far: 'remote' })
    expect(graph.find('llm')?.measured).toBe(true)
    expect(graph.find('stt')?.fused).toBe(true)
    expect(graph.find('vad')?.fused).toBe(true)
    expect(graph.find('far')?.location).toBe('nats:bot.tts')
    expect(graph.find('T/speak/tts', 'T')?.path).toBe('speak/tts')
    expect(graph.find('U/speak/tts', 'T')).toBeUndefined()
  })

  it('edges follow the flow: serial chains, fan-out to every branch, fan-in to what follows', () => {
    const edges = describeGraph(bot).edges().map((e) => `${e.from} -> ${e.to}`)
    expect(edges).toContain('<input> -> stt')
    expect(edges).toContain('stt -> vad')
    expect(edges).toContain('llm -> queue')
    expect(edges).toContain('queue -> speak/tts')
    expect(edges).toContain('speak/tts -> speak/parallel/branch0/log')
    expect(edges).toContain('speak/tts -> speak/parallel/branch1/upper')
    expect(edges).toContain('speak/parallel/branch1/upper -> speak/parallel/branch1/upper#1')
    expect(edges).toContain('speak/parallel/branch0/log -> syncParallel/branch0/a')
    expect(edges).toContain('speak/parallel/branch1/upper#1 -> syncParallel/branch1/sequential/branch1/c')
    expect(edges).toContain('syncParallel/branch1/sequential/branch0/b -> far')
    expect(edges).toContain('far -> <output>')
    expect(edges).not.toContain('speak/parallel/branch0/log -> speak/parallel/branch1/upper')
  })

  it('every processor an observer sees during a run is a node of the graph', async () => {
    const seen = new Set<string>()
    const handle = run(bot, [Frames.text('hi'), Frames.text('there')], {
      name: 'T',
      observe: (e) => {
        if (e.type === 'frame' && e.at === 'processor') seen.add((e as FrameEvent).processor)
      },
    })
    for await (const _ of handle) void _
    await new Promise((r) => setTimeout(r, 30))
    const graph = describeGraph(bot)
    const missing = [...seen].filter((p) => graph.find(p, 'T') === undefined)
    expect(missing).toEqual([])
    for (const leaf of graph.leaves()) expect(seen.has(`T/${leaf.path}`)).toBe(true)
  })

  it('renders Mermaid and DOT', () => {
    const graph = describeGraph(bot)
    const mermaid = graph.toMermaid()
    expect(mermaid.startsWith('flowchart LR')).toBe(true)
    expect(mermaid).toMatch(/subgraph n\d+\["speak"\]/)
    expect(mermaid).toMatch(/n\d+\[\("queue"\)\]/)
    expect(mermaid).toMatch(/n\d+\{\{"far @ nats:bot.tts"\}\}/)
    expect(mermaid).toContain('"llm ⏱"')
    expect(mermaid).toMatch(/input --> n0/)
    expect(mermaid).toMatch(/class n0,n1,/)
    expect(mermaid).toContain('"upper#35;1"')
    // As many `end`s as subgraphs.
    expect(mermaid.match(/subgraph /g)?.length).toBe(mermaid.match(/^\s*end$/gm)?.length)
    const dot = graph.toDot()
    expect(dot.startsWith('digraph pipeline {')).toBe(true)
    expect(dot).toContain('shape=cylinder')
    expect(dot).toContain('shape=hexagon')
    expect(dot).toMatch(/subgraph cluster_n\d+ \{/)
    expect((dot.match(/\{/g) ?? []).length).toBe((dot.match(/\}/g) ?? []).length)
    expect(JSON.parse(JSON.stringify(graph)).children).toHaveLength(7)
  })

  it('escapes names and rejects what is not a processor', () => {
    const graph = describeGraph(pipeline(id('say "hi" <b>')))
    expect(graph.toMermaid()).toContain('say #quot;hi#quot; #lt;b#gt;')
    expect(graph.toDot()).toContain('say \\"hi\\" <b>')
    expect(() => describeGraph(42 as never)).toThrow(TypeError)
  })
})
