/**
 * The trace viewer page: one self-contained HTML file (no external script, style or font) with the pipeline's graph
 * on top and below it a timeline — one lane per processor, a mark per frame, the interruptions as vertical lines,
 * the frame shown on hover.
 * @module
 */
import { graphFromJSON, GRAPH_INPUT, GRAPH_OUTPUT, type GraphNode } from '../observe/describe.js'
import type { Trace } from './read-trace.js'

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)

const BOX_W = 150
const BOX_H = 30
const COL_GAP = 50
const ROW_GAP = 16
const PAD = 20

interface Placed {
  readonly x: number
  readonly y: number
}

/**
 * The graph as an SVG: leaves in columns by their distance from the input, groups as labelled frames around them.
 * @example
 * ```ts
 * import { describe } from 'apipeline-ts'
 * import { graphSvg } from 'apipeline-ts/trace'
 * const svg = graphSvg(describe(bot).toJSON())
 * ```
 */
export function graphSvg(root: GraphNode | null): string {
  if (root === null) return '<p class="note">No graph in this trace (record with <code>traceRecorder(file, { processor })</code> to draw one).</p>'
  const graph = graphFromJSON(root)
  const leaves = graph.leaves()
  const edges = graph.edges()
  const column = new Map<string, number>([[GRAPH_INPUT, 0]])
  // Longest path from the input: edges come in flow order, so repeat until stable (bounded by the leaf count).
  for (let round = 0; round <= leaves.length + 1; round++) {
    let changed = false
    for (const e of edges) {
      const from = column.get(e.from)
      if (from === undefined) continue
      if ((column.get(e.to) ?? -1) < from + 1) {
        column.set(e.to, from + 1)
        changed = true
      }
    }
    if (!changed) break
  }
  const rows = new Map<number, number>()
  const pos = new Map<string, Placed>()
  const place = (path: string): void => {
    const col = column.get(path) ?? 1
    const row = rows.get(col) ?? 0
    rows.set(col, row + 1)
    pos.set(path, { x: PAD + col * (BOX_W + COL_GAP), y: PAD + 40 + row * (BOX_H + ROW_GAP + 30) })
  }
  place(GRAPH_INPUT)
  for (const leaf of leaves) place(leaf.path)
  place(GRAPH_OUTPUT)
  const maxRows = Math.max(1, ...rows.values())
  const width = PAD * 2 + (Math.max(...[...pos.values()].map((p) => p.x)) - PAD) + BOX_W
  const height = PAD * 2 + 40 + maxRows * (BOX_H + ROW_GAP + 30)
  const parts: string[] = []
  // Groups: a frame around the boxes of their leaves, outer groups first.
  const groups = graph.nodes().filter((n) => n.children.length > 0)
  groups.forEach((g) => {
    const inside = leaves.filter((l) => l.path.startsWith(`${g.path}/`)).map((l) => pos.get(l.path) as Placed)
    if (inside.length === 0) return
    // Nested groups: the more levels a group holds, the wider its frame, so labels never overlap.
    const levels = Math.max(1, ...leaves.filter((l) => l.path.startsWith(`${g.path}/`)).map((l) => l.path.slice(g.path.length + 1).split('/').length))
    const margin = 6 * levels
    const x = Math.min(...inside.map((p) => p.x)) - margin
    const y = Math.min(...inside.map((p) => p.y)) - margin - 14 * levels
    const w = Math.max(...inside.map((p) => p.x)) + BOX_W + margin - x
    const h = Math.max(...inside.map((p) => p.y)) + BOX_H + margin - y
    parts.push(
      `<g class="group group-${g.kind}" data-path="${escapeHtml(g.path)}"><rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6"/><text x="${x + 6}" y="${y + 11}">${escapeHtml(g.name === g.kind || g.kind === 'branch' ? g.name : `${g.name} (${g.kind})`)}</text></g>`,
    )
  })
  for (const e of edges) {
    const a = pos.get(e.from)
    const b = pos.get(e.to)
    if (a === undefined || b === undefined) continue
    const x1 = a.x + BOX_W
    const y1 = a.y + BOX_H / 2
    const x2 = b.x
    const y2 = b.y + BOX_H / 2
    const mid = (x1 + x2) / 2
    parts.push(`<path class="edge" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 4},${y2}" marker-end="url(#arrow)"/>`)
  }
  const box = (path: string, label: string, cls: string): void => {
    const p = pos.get(path) as Placed
    const shown = label.length > 20 ? `${label.slice(0, 19)}…` : label
    parts.push(
      `<g class="node ${cls}" data-path="${escapeHtml(path)}"><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="${cls.includes('end') ? 15 : 4}"/><text x="${p.x + BOX_W / 2}" y="${p.y + BOX_H / 2 + 4}" text-anchor="middle">${escapeHtml(shown)}</text><title>${escapeHtml(path)}</title></g>`,
    )
  }
  box(GRAPH_INPUT, 'input', 'end')
  for (const leaf of leaves) {
    box(leaf.path, `${leaf.name}${leaf.measured ? ' (measured)' : ''}`, `kind-${leaf.kind}${leaf.fused ? ' fused' : ''}`)
  }
  box(GRAPH_OUTPUT, 'output', 'end')
  return `<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#667"/></marker></defs>${parts.join('')}</svg>`
}

/**
 * The lanes of the timeline: input, the graph's processors in order (a group — a fan-out element, a named pipeline —
 * after its members, when it was seen emitting), any other observed processor, output.
 */
function lanesOf(trace: Trace): string[] {
  const lanes: string[] = ['input']
  const seen = new Set(trace.frames.filter((f) => f.at === 'processor').map((f) => f.p))
  const walk = (n: GraphNode): void => {
    n.children.forEach(walk)
    if (n.children.length === 0 || seen.has(n.path)) lanes.push(n.path)
  }
  if (trace.header.graph !== null) trace.header.graph.children.forEach(walk)
  const known = new Set(lanes)
  for (const f of trace.frames) {
    if (f.at !== 'processor' || known.has(f.p)) continue
    known.add(f.p)
    lanes.push(f.p)
  }
  lanes.push('output')
  return lanes
}

const KIND_CODE: Record<string, number> = { system: 0, control: 1, data: 2, app: 3 }

/**
 * The viewer page for `trace`.
 * @example
 * ```ts
 * import { readTrace, renderTraceHtml } from 'apipeline-ts/trace'
 * import { writeFile } from 'node:fs/promises'
 * await writeFile('session.html', renderTraceHtml(await readTrace('session.jsonl')))
 * ```
 */
export function renderTraceHtml(trace: Trace): string {
  const lanes = lanesOf(trace)
  const laneIndex = new Map(lanes.map((l, i) => [l, i]))
  const frames = trace.frames.map((f) => [
    f.t,
    laneIndex.get(f.at === 'input' ? 'input' : f.at === 'output' ? 'output' : f.p) as number,
    f.d === 'up' ? 1 : 0,
    KIND_CODE[f.frame.kind] ?? 3,
    f.frame.type === 'error' ? 1 : 0,
    f.frame.text,
  ])
  const interruptions = trace.events.filter((e) => e.kind === 'interrupted').map((e) => e.t)
  const ended = trace.events.find((e) => e.kind === 'ended')
  const duration = Math.max(1, ended?.t ?? 0, ...trace.frames.map((f) => f.t))
  const data = { lanes, frames, interruptions, ended: ended === undefined ? null : { t: ended.t, status: ended.status ?? '' }, duration }
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
  const title = `${trace.header.task} — trace`
  const started = new Date(trace.header.wallClock).toISOString()
  const summary = `${trace.frames.length} frames, ${interruptions.length} interruption${interruptions.length === 1 ? '' : 's'}, ${duration.toFixed(1)} ms${ended?.status !== undefined ? `, ${ended.status}` : ''}${trace.malformed > 0 ? `, ${trace.malformed} unreadable lines skipped` : ''}`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:13px/1.4 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{padding:10px 16px;background:#1d2330;color:#fff;display:flex;gap:16px;align-items:baseline}
header h1{font-size:15px;margin:0}header span{opacity:.75}
section{padding:8px 16px}h2{font-size:13px;margin:6px 0;text-transform:uppercase;letter-spacing:.05em;color:#556}
#graph-box{overflow-x:auto;background:#fff;border:1px solid #dde;border-radius:6px}
#graph .node rect{fill:#eef3ff;stroke:#5677c7}#graph .node.end rect{fill:#f2f2f2;stroke:#888}
#graph .node.kind-buffer rect{fill:#fff6e0;stroke:#c79a35}#graph .node.kind-remote rect{fill:#f3e8ff;stroke:#8a56c7}
#graph .node.fused rect{stroke-dasharray:4 3}#graph text{font-size:12px;fill:#1d2330}
#graph .group rect{fill:none;stroke:#aab;stroke-dasharray:3 3}#graph .group text{font-size:11px;fill:#778}
#graph .edge{fill:none;stroke:#667;stroke-width:1.2}
#controls{display:flex;gap:8px;align-items:center;margin:4px 0}
#timeline-box{overflow:auto;background:#fff;border:1px solid #dde;border-radius:6px;max-height:60vh;position:relative}
#timeline .lane-bg{fill:#fff}#timeline .lane-bg.odd{fill:#f5f7fa}
#timeline .lane-label{font-size:11px;fill:#334}#timeline .axis{font-size:10px;fill:#889}#timeline .tick{stroke:#e3e6ea}
#timeline .mark{stroke:#fff;stroke-width:.5;cursor:pointer}#timeline .mark:hover,#timeline .mark.selected{stroke:#000;stroke-width:1.5}
.k0{fill:#d9534f}.k1{fill:#3c7dd9}.k2{fill:#2e9e5b}.k3{fill:#8a56c7}.err{fill:#7a0000}
#timeline .interruption{stroke:#e8590c;stroke-width:2;stroke-dasharray:6 3}#timeline .ended{stroke:#333;stroke-width:1}
#detail{position:sticky;bottom:0;background:#1d2330;color:#fff;padding:8px 16px;font-family:ui-monospace,Menlo,Consolas,monospace;min-height:1.4em;white-space:pre-wrap;word-break:break-all}
.legend span{display:inline-flex;align-items:center;gap:4px;margin-right:10px}.legend i{display:inline-block;width:10px;height:10px;border-radius:50%}
.note{color:#778}
</style></head>
<body>
<header><h1>${escapeHtml(trace.header.task)}</h1><span>started ${escapeHtml(started)}</span><span id="summary">${escapeHtml(summary)}</span></header>
<section><h2>Pipeline</h2><div id="graph-box">${graphSvg(trace.header.graph)}</div></section>
<section><h2>Timeline</h2>
<div id="controls"><button id="zoom-out" type="button">−</button><button id="zoom-in" type="button">+</button><span id="zoom-label"></span>
<span class="legend"><span><i class="k0" style="background:#d9534f"></i>system</span><span><i style="background:#3c7dd9"></i>control</span><span><i style="background:#2e9e5b"></i>data</span><span><i style="background:#8a56c7"></i>app</span><span>▲ upstream</span><span style="color:#e8590c">┆ interruption</span></span></div>
<div id="timeline-box"><svg id="timeline" xmlns="http://www.w3.org/2000/svg"></svg></div></section>
<div id="detail">Hover a mark to see its frame.</div>
<script type="application/json" id="trace-data">${json}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('trace-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var svg = document.getElementById('timeline');
  var detail = document.getElementById('detail');
  var LABEL = 220, LANE = 26, TOP = 22, RIGHT = 30;
  var fit = Math.max(400, document.getElementById('timeline-box').clientWidth - LABEL - RIGHT - 4);
  var scale = Math.max(0.0005, Math.min(50, fit / data.duration));
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    (parent || svg).appendChild(e);
    return e;
  }
  function fmt(t) { return t < 1000 ? t.toFixed(1) + ' ms' : (t / 1000).toFixed(3) + ' s'; }
  function show(f) {
    detail.textContent = fmt(f[0]) + '  ' + data.lanes[f[1]] + '  ' + (f[2] ? '\\u2191 up' : '\\u2193 down') + '\\n' + f[5];
  }
  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var width = Math.ceil(LABEL + data.duration * scale + RIGHT);
    var height = TOP + data.lanes.length * LANE + 4;
    svg.setAttribute('width', width); svg.setAttribute('height', height);
    data.lanes.forEach(function (name, i) {
      var g = el('g', { 'class': 'lane', 'data-lane': name });
      el('rect', { 'class': 'lane-bg' + (i % 2 ? ' odd' : ''), x: 0, y: TOP + i * LANE, width: width, height: LANE }, g);
      var label = el('text', { 'class': 'lane-label', x: 6, y: TOP + i * LANE + LANE / 2 + 4 }, g);
      label.textContent = name.length > 34 ? '\\u2026' + name.slice(-33) : name;
    });
    var step = Math.pow(10, Math.floor(Math.log10(Math.max(1e-3, 120 / scale))));
    if (120 / scale / step > 5) step *= 5; else if (120 / scale / step > 2) step *= 2;
    for (var t = 0; t <= data.duration; t += step) {
      var x = LABEL + t * scale;
      el('line', { 'class': 'tick', x1: x, x2: x, y1: TOP - 4, y2: height });
      el('text', { 'class': 'axis', x: x + 2, y: 12 }).textContent = fmt(t);
    }
    var marks = el('g', { id: 'marks' });
    data.frames.forEach(function (f, i) {
      var x = LABEL + f[0] * scale, y = TOP + f[1] * LANE + LANE / 2;
      var cls = 'mark k' + f[3] + (f[4] ? ' err' : '') + (f[2] ? ' up' : ' down');
      var m = f[2]
        ? el('path', { 'class': cls, d: 'M' + x + ',' + (y - 6) + ' l5,9 l-10,0 z', 'data-i': i }, marks)
        : el('circle', { 'class': cls, cx: x, cy: y, r: 4.5, 'data-i': i }, marks);
      el('title', {}, m).textContent = f[5];
    });
    data.interruptions.forEach(function (t) {
      var x = LABEL + t * scale;
      el('line', { 'class': 'interruption', x1: x, x2: x, y1: TOP - 6, y2: height }).appendChild(document.createElementNS(NS, 'title')).textContent = 'interruption at ' + fmt(t);
    });
    if (data.ended) {
      var xe = LABEL + data.ended.t * scale;
      el('line', { 'class': 'ended', x1: xe, x2: xe, y1: TOP - 6, y2: height }).appendChild(document.createElementNS(NS, 'title')).textContent = data.ended.status + ' at ' + fmt(data.ended.t);
    }
    document.getElementById('zoom-label').textContent = (scale >= 1 ? scale.toFixed(1) : scale.toFixed(3)) + ' px/ms';
  }
  svg.addEventListener('mouseover', function (e) {
    var i = e.target.getAttribute && e.target.getAttribute('data-i');
    if (i === null || i === undefined) return;
    var prev = svg.querySelector('.mark.selected');
    if (prev) prev.classList.remove('selected');
    e.target.classList.add('selected');
    show(data.frames[Number(i)]);
  });
  document.getElementById('zoom-in').onclick = function () { scale *= 2; draw(); };
  document.getElementById('zoom-out').onclick = function () { scale /= 2; draw(); };
  draw();
})();
</script>
</body></html>
`
}
