/**
 * B8: the same 10 pass-through stages in the Python original (apipeline 0.2.12) and in ours, frames/s side by side.
 *
 * Runs only when `APIPELINE_PY_PATH` points at a checkout of the Python apipeline (the directory holding the
 * `apipeline` package, e.g. a clone of github.com/ai-bot-pro/pipeline-py) and a Python interpreter with `pydantic`
 * is available (`APIPELINE_PYTHON`, default `python3`); otherwise the row is skipped with the reason.
 *
 * Python: a `PipelineTask` over `Pipeline([PassThrough() × 10, Counter()])`, where each stage is a `FrameProcessor`
 * whose `process_frame` pushes the frame on; `N` text frames and an `EndFrame` are queued, then the task runs.
 * Ours: `PipelineTask` over `pipeline(10 × async function* pass-through)`, the same frames queued, the output read;
 * and `run(pipeline(map × 10))` (the fused per-frame form). Each side is timed from queueing the first frame to the
 * end of the run, `BENCH_REPS` times after a warm-up, median. `BENCH_PY_FRAMES` (default 20,000).
 * Run alone: `APIPELINE_PY_PATH=~/pipeline-py npx tsx bench/python.ts`.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Frames, PipelineTask, map, pipeline, run, type Frame, type Processor } from '../lib/index.js'
import { formatTable, now, type BenchRow } from './harness.js'

const STAGES = 10

function envCount(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

/** The Python side: prints one JSON line `{ "ms": [..] }` with the time of every repetition. */
const PYTHON_BENCH = String.raw`
import asyncio, json, logging, sys, time
sys.path.insert(0, sys.argv[1])
n, reps, stages = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
logging.disable(logging.CRITICAL)
from apipeline.frames.control_frames import EndFrame
from apipeline.frames.data_frames import TextFrame
from apipeline.pipeline.pipeline import Pipeline
from apipeline.pipeline.task import PipelineParams, PipelineTask
from apipeline.processors.frame_processor import FrameDirection, FrameProcessor

class PassThrough(FrameProcessor):
    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)

class Counter(FrameProcessor):
    def __init__(self):
        super().__init__()
        self.count = 0
    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        if isinstance(frame, TextFrame):
            self.count += 1
        await self.push_frame(frame, direction)

async def once():
    counter = Counter()
    task = PipelineTask(Pipeline([PassThrough() for _ in range(stages)] + [counter]), PipelineParams())
    frames = [TextFrame(text=str(i)) for i in range(n)]
    t0 = time.perf_counter()
    await task.queue_frames(frames)
    await task.queue_frame(EndFrame())
    await task.run(asyncio.get_running_loop())
    ms = (time.perf_counter() - t0) * 1000
    if counter.count != n:
        raise SystemExit(f"expected {n} frames at the end, got {counter.count}")
    return ms

async def main():
    await once()
    print(json.dumps({"ms": [await once() for _ in range(reps)], "python": sys.version.split()[0]}))

asyncio.run(main())
`

/** Why B8 cannot run here, or undefined when it can. */
function skipReason(checkout: string | undefined, python: string): Promise<string | undefined> {
  if (checkout === undefined || checkout === '') {
    return Promise.resolve('APIPELINE_PY_PATH is not set (point it at a checkout of the Python apipeline to compare)')
  }
  if (!existsSync(join(checkout, 'apipeline', '__init__.py'))) {
    return Promise.resolve(`APIPELINE_PY_PATH=${checkout} holds no apipeline/__init__.py`)
  }
  return new Promise((done) => {
    execFile(python, ['-c', 'import pydantic'], { timeout: 30_000 }, (err) => {
      done(err === null ? undefined : `${python} cannot run the Python apipeline (needs Python >= 3.10 with pydantic): ${err.message.split('\n')[0] ?? ''}`)
    })
  })
}

function runPython(python: string, checkout: string, n: number, reps: number): Promise<{ ms: number[]; python: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'apipeline-b8-'))
  const script = join(dir, 'bench_pass_through.py')
  writeFileSync(script, PYTHON_BENCH)
  return new Promise((done, fail) => {
    execFile(python, [script, resolve(checkout), String(n), String(reps), String(STAGES)], { timeout: 600_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true })
      if (err !== null) {
        fail(new Error(`the Python side failed: ${err.message}\n${stderr}`))
        return
      }
      try {
        done(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { ms: number[]; python: string })
      } catch (parseErr) {
        fail(new Error(`the Python side printed no result: ${String(parseErr)}\n${stdout}\n${stderr}`))
      }
    })
  })
}

const passThrough: Processor = async function* passThrough(source) {
  for await (const f of source) yield f
}

async function oursTask(n: number): Promise<number> {
  const task = new PipelineTask(pipeline(...Array.from({ length: STAGES }, () => passThrough)))
  const frames = Array.from({ length: n }, (_, i) => Frames.text(String(i)))
  const t0 = now()
  let count = 0
  const reading = (async () => {
    for await (const f of task.frames()) if (f.type === 'text') count++
  })()
  const running = task.run()
  await task.queueFrames(frames)
  task.stopWhenDone()
  await running
  await reading
  if (count !== n) throw new Error(`expected ${n} frames at the end, got ${count}`)
  return now() - t0
}

async function oursFused(n: number): Promise<number> {
  const p = pipeline(...Array.from({ length: STAGES }, () => map((f: Frame) => f)))
  const frames = Array.from({ length: n }, (_, i) => Frames.text(String(i)))
  const t0 = now()
  let count = 0
  for await (const f of run(p, frames)) if (f.type === 'text') count++
  if (count !== n) throw new Error(`expected ${n} frames at the end, got ${count}`)
  return now() - t0
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** B8 rows, or none (with the reason printed) when the Python original is not available. */
export async function bench(): Promise<BenchRow[]> {
  const checkout = process.env.APIPELINE_PY_PATH
  const python = process.env.APIPELINE_PYTHON ?? 'python3'
  const reason = await skipReason(checkout, python)
  if (reason !== undefined || checkout === undefined) {
    console.log(`B8 skipped: ${reason ?? 'APIPELINE_PY_PATH is not set'}`)
    return []
  }
  const n = envCount('BENCH_PY_FRAMES', 20_000)
  const reps = envCount('BENCH_REPS', 3)
  const py = await runPython(python, checkout, n, reps)
  const ours: number[] = []
  const fused: number[] = []
  await oursTask(n)
  await oursFused(n)
  for (let r = 0; r < reps; r++) {
    ours.push(await oursTask(n))
    fused.push(await oursFused(n))
  }
  const pyMs = median(py.ms)
  const base = `Python apipeline (CPython ${py.python}), 10 FrameProcessors`
  const speed = (ms: number): string => `${(pyMs / ms).toFixed(1)}x the frames/s of the Python original`
  return [
    { bench: 'B8', variant: base, frames: n, ms: pyMs, stages: STAGES, note: 'PipelineTask, frames queued then run; median of the Python reps' },
    { bench: 'B8', variant: 'apipeline-ts PipelineTask, 10 async function*', frames: n, ms: median(ours), stages: STAGES, baseline: base, note: speed(median(ours)) },
    { bench: 'B8', variant: 'apipeline-ts run(), 10 map (fused)', frames: n, ms: median(fused), stages: STAGES, baseline: base, note: speed(median(fused)) },
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatTable(await bench()))
}
