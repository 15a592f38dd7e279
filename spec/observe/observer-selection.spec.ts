import { describe, expect, it } from 'vitest'
import {
  Frames,
  PipelineTask,
  map,
  named,
  parallel,
  pipeline,
  run,
  type EventBatch,
  type Frame,
  type FrameEvent,
  type ObserverEvent,
  type ObserverObject,
  type Processor,
} from '../../lib/index.js'
import { sleep, startTask } from '../helpers/collect.js'

const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f), 'upper')
const exclaim = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`${f.text}!`) : f), 'exclaim')
const fragile = map((f) => {
  if (f.kind === 'data' && f.type === 'text' && f.text === 'BOOM') throw new Error('no boom')
  return f
}, 'fragile')
const bot = (): Processor => pipeline(upper, named('fan', parallel([exclaim], [named('inner', pipeline(fragile))])))
const input = (): Frame[] => [Frames.text('a'), Frames.text('boom'), Frames.text('b')]

/** Runs `bot()` over `input()` with `observers`; resolves once they have received everything. */
async function observe(observers: ObserverObject[], name = 'S'): Promise<PipelineTask> {
  const task = new PipelineTask(bot(), { name, observe: observers })
  const reading = (async () => {
    for await (const _ of task.frames()) void _
  })()
  await task.queueFrames(input())
  task.stopWhenDone()
  await task.run()
  await reading
  await task.observersIdle()
  return task
}

function collector(options: Omit<ObserverObject, 'onEvent' | 'onEvents'> = {}): ObserverObject & { events: ObserverEvent[] } {
  const events: ObserverEvent[] = []
  return { ...options, events, onEvent: (e) => void events.push(e) }
}

const frames = (events: readonly ObserverEvent[]): FrameEvent[] => events.filter((e): e is FrameEvent => e.type === 'frame')
const tapOf = (task: PipelineTask): unknown => (task as unknown as { runtime: { tap: unknown } }).runtime.tap

describe('observer selection', () => {
  it('at: only the frame events seen at those points, and the lifecycle; the task records no processor event for it', async () => {
    const sink = collector({ name: 'sink', at: ['output'] })
    const task = await observe([sink])
    expect(tapOf(task)).toBeUndefined()
    expect(sink.events[0]?.type).toBe('started')
    expect(sink.events.at(-1)?.type).toBe('ended')
    const seen = frames(sink.events)
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((e) => e.at === 'output' && e.processor === 'S')).toBe(true)
    expect(seen.flatMap((e) => (e.frame.type === 'text' ? [e.frame.text] : [])).sort()).toEqual(['A', 'A!', 'B', 'B!', 'BOOM!'])
  })

  it('processors: a path selects that processor and everything below it; input and output still come', async () => {
    const fan = collector({ name: 'fan', processors: ['fan/branch1'] })
    const one = collector({ name: 'one', processors: ['upper'], at: ['processor'] })
    const task = await observe([fan, one])
    expect(tapOf(task)).toBeDefined()
    const processors = (events: ObserverEvent[]) => new Set(frames(events).filter((e) => e.at === 'processor').map((e) => e.processor))
    expect(processors(fan.events)).toEqual(new Set(['S/fan/branch1/inner', 'S/fan/branch1/inner/fragile']))
    expect(frames(fan.events).some((e) => e.at === 'input')).toBe(true)
    expect(frames(fan.events).some((e) => e.at === 'output')).toBe(true)
    expect(processors(one.events)).toEqual(new Set(['S/upper']))
    expect(frames(one.events).every((e) => e.at === 'processor')).toBe(true)
    // A processor path is not a name prefix: 'up' selects nothing.
    const none = collector({ name: 'none', processors: ['up'], at: ['processor'] })
    await observe([none])
    expect(frames(none.events)).toEqual([])
  })

  it('kinds and directions: only upstream error frames, recorded once where they were pushed', async () => {
    const errors = collector({ name: 'errors', kinds: ['system'], directions: ['up'] })
    const task = await observe([errors])
    const seen = frames(errors.events)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ processor: 'S/fan/branch1/inner/fragile', direction: 'up', at: 'processor' })
    expect(seen[0]?.frame.type).toBe('error')
    // No observer wants frames leaving processors downstream: only upstream ones are recorded.
    expect(tapOf(task)).toBeDefined()
  })

  it('a selecting observer next to one that takes everything gets the same events as a filter over them', async () => {
    const all = collector({ name: 'all' })
    const data = collector({ name: 'data', kinds: ['data'], directions: ['down'], at: ['processor'] })
    await observe([all, data])
    const expected = frames(all.events).filter((e) => e.frame.kind === 'data' && e.direction === 'down' && e.at === 'processor')
    expect(frames(data.events)).toEqual(expected)
    expect(data.events.filter((e) => e.type !== 'frame')).toEqual(all.events.filter((e) => e.type !== 'frame'))
  })

  it('keeps the selection exact while other observers come and go', async () => {
    const task = new PipelineTask(bot(), { name: 'D' })
    const down = collector({ name: 'down', directions: ['down'] })
    const all = collector({ name: 'all' })
    task.observe(down)
    const allHandle = task.observe(all)
    const reading = (async () => {
      for await (const _ of task.frames()) void _
    })()
    const done = task.run()
    await task.queueFrames(input())
    await sleep(20)
    allHandle.detach()
    await task.queueFrames(input())
    await sleep(20)
    task.observe(collector({ name: 'again' }))
    await task.queueFrames(input())
    task.stopWhenDone()
    await done
    await reading
    await task.observersIdle()
    expect(frames(all.events).some((e) => e.direction === 'up')).toBe(true)
    expect(frames(down.events).filter((e) => e.direction === 'up')).toEqual([])
    // Each of the three inputs' texts left `upper` while `down` was attached.
    expect(frames(down.events).filter((e) => e.processor === 'D/upper' && e.frame.type === 'text')).toHaveLength(9)
  })

  it('select(): a running observer narrows to the lifecycle and widens again; the task taps the stages only meanwhile', async () => {
    const { task, finish } = startTask(bot(), { name: 'W' })
    const watcher = collector({ name: 'watcher', at: ['input', 'output'] })
    const handle = task.observe(watcher)
    expect(tapOf(task)).toBeUndefined()
    await task.queueFrames([Frames.text('one')])
    await sleep(20)
    // Widened to every processor while something is investigated.
    handle.select({})
    expect(tapOf(task)).toBeDefined()
    await task.queueFrames([Frames.text('two')])
    await sleep(20)
    // Narrowed to the lifecycle only: nothing of the stages or the task's ends is recorded any more.
    handle.select({ at: [] })
    expect(tapOf(task)).toBeUndefined()
    await task.queueFrames([Frames.text('three')])
    task.stopWhenDone()
    await finish()
    await task.observersIdle()
    const texts = (at: string) =>
      frames(watcher.events)
        .filter((e) => e.at === at && e.frame.type === 'text')
        .map((e) => (e.frame.type === 'text' ? e.frame.text : ''))
    expect(texts('input')).toEqual(['one', 'two'])
    expect(new Set(texts('processor'))).toEqual(new Set(['TWO', 'TWO!']))
    expect(frames(watcher.events).filter((e) => e.at === 'processor').every((e) => e.processor.startsWith('W/'))).toBe(true)
    expect(watcher.events.at(-1)?.type).toBe('ended')
    expect(handle.stats()).toMatchObject({ dropped: 0, failures: 0 })
    expect(() => handle.select({ at: ['inside' as never] })).toThrow(/observer at must be an array/)
    expect(() => handle.select(null as never)).toThrow(TypeError)
  })

  it('select() from inside the handler applies to the very next event, queued ones included', async () => {
    const { task, finish } = startTask(bot(), { name: 'H' })
    const got: ObserverEvent[] = []
    const handle = task.observe({
      name: 'self',
      onEvent: (e) => {
        got.push(e)
        // At the first frame leaving a processor: the task's output only, from now on.
        if (e.type === 'frame' && e.at === 'processor') handle.select({ at: ['output'] })
      },
    })
    // Everything queued in one job: the events after the first processor event are already queued when it is delivered.
    await task.queueFrames(input())
    task.stopWhenDone()
    await finish()
    await task.observersIdle()
    const first = got.findIndex((e) => e.type === 'frame' && e.at === 'processor')
    expect(first).toBeGreaterThan(0)
    const after = frames(got.slice(first + 1))
    expect(after.length).toBeGreaterThan(0)
    expect(after.every((e) => e.at === 'output')).toBe(true)
    expect(got.at(-1)?.type).toBe('ended')
  })

  it('select() from runTask: an observer that takes only the lifecycle of this task costs the task no recording', async () => {
    const seen: ObserverEvent[] = []
    const lifecycleOnly: ObserverObject = {
      name: 'lifecycle',
      onEvent: (e) => void seen.push(e),
      runTask(task, runIt) {
        task.select({ at: [] })
        return runIt()
      },
    }
    const other = collector({ name: 'other', at: ['output'] })
    const task = await observe([lifecycleOnly, other])
    expect(tapOf(task)).toBeUndefined()
    expect(seen.map((e) => e.type)).toEqual(['started', 'ended'])
    expect(frames(other.events).length).toBeGreaterThan(0)
  })

  it('rejects a bad selection with a TypeError naming the option', () => {
    const task = new PipelineTask(bot(), { name: 'bad' })
    const onEvent = (): void => {}
    expect(() => task.observe({ onEvent, at: ['inside' as never] })).toThrow(/observer at must be an array of 'input', 'processor', 'output'/)
    expect(() => task.observe({ onEvent, kinds: 'data' as never })).toThrow(/observer kinds/)
    expect(() => task.observe({ onEvent, directions: ['sideways' as never] })).toThrow(/observer directions/)
    expect(() => task.observe({ onEvent, processors: [''] })).toThrow(/observer processors/)
    expect(() => task.observe({ name: 'nothing' } as never)).toThrow(/onEvent\(event\) or onEvents\(batch\)/)
    expect(task.observerStats()).toEqual([])
  })
})

describe('onEvents: batches', () => {
  it('gives the same events, in the same order, as onEvent; accessors agree with the event objects', async () => {
    const one = collector({ name: 'one' })
    const fromBatches: ObserverEvent[] = []
    const columns: unknown[][] = []
    let batches = 0
    const batched: ObserverObject = {
      name: 'batched',
      onEvents(batch: EventBatch) {
        batches++
        expect(batch.task).toBe('S')
        for (let i = 0; i < batch.length; i++) {
          const event = batch.event(i)
          fromBatches.push(event)
          expect(batch.type(i)).toBe(event.type)
          expect(batch.time(i)).toBe(event.time)
          if (event.type === 'frame') columns.push([batch.frame(i), batch.processor(i), batch.direction(i), batch.at(i), batch.session])
          else expect(() => batch.frame(i)).toThrow(TypeError)
        }
        expect(() => batch.event(batch.length)).toThrow(RangeError)
        expect(() => batch.type(-1)).toThrow(RangeError)
      },
    }
    const task = await observe([one, batched])
    expect(batches).toBeGreaterThan(0)
    expect(fromBatches).toEqual(one.events)
    expect(columns).toEqual(frames(one.events).map((e) => [e.frame, e.processor, e.direction, e.at, e.session]))
    expect(task.observerStats().find((s) => s.name === 'batched')).toMatchObject({ delivered: one.events.length, dropped: 0, failures: 0 })
  })

  it('with a selection, a batch holds only the selected events', async () => {
    const out: string[] = []
    const batched: ObserverObject = {
      name: 'outputs',
      at: ['output'],
      kinds: ['data'],
      onEvents(batch) {
        for (let i = 0; i < batch.length; i++) {
          if (batch.type(i) !== 'frame') continue
          const f = batch.frame(i)
          expect(batch.at(i)).toBe('output')
          if (f.kind === 'data' && f.type === 'text') out.push(f.text)
        }
      },
    }
    await observe([batched])
    expect(out.sort()).toEqual(['A', 'A!', 'B', 'B!', 'BOOM!'])
  })

  it('awaits a batch observer that returns a promise, and reports one that throws once, without stopping delivery', async () => {
    let lifecycle = 0
    let calls = 0
    const slow: ObserverObject = {
      name: 'slowBatches',
      async onEvents(batch) {
        await sleep(2)
        for (let i = 0; i < batch.length; i++) if (batch.type(i) !== 'frame') lifecycle++
      },
    }
    const broken: ObserverObject = {
      name: 'broken',
      onEvents() {
        calls++
        throw new Error('batch failed')
      },
    }
    const task = new PipelineTask(pipeline(upper), { name: 'B', observe: [slow, broken] })
    const reading = (async () => {
      for await (const _ of task.frames()) void _
    })()
    const done = task.run()
    await task.queueFrame(Frames.text('x'))
    await sleep(20)
    await task.queueFrame(Frames.text('y'))
    await sleep(20)
    task.stopWhenDone()
    const result = await done
    await reading
    await task.observersIdle()
    expect(lifecycle).toBe(2)
    // Delivery went on after the first failure: every batch was handed over.
    expect(calls).toBeGreaterThan(1)
    expect(task.observerStats().find((s) => s.name === 'broken')).toMatchObject({ failures: calls, firstError: 'batch failed' })
    const reported = result.errors.filter((e) => e.processor === 'B.observe(broken)')
    expect(reported).toHaveLength(1)
    expect(reported[0]?.fatal).toBe(false)
    expect(result.status).toBe('ended')
  })
})

describe('event times', () => {
  it('a frame a processor hands over after awaiting gets the time it left, not the time of an earlier job', async () => {
    const waits = named('waits', async function* (source: AsyncIterable<Frame>) {
      for await (const f of source) {
        if (f.kind === 'data') await sleep(25)
        yield f
      }
    })
    const all = collector({ name: 'all', at: ['input', 'processor'] })
    const handle = run(pipeline(upper, waits), [Frames.text('t')], { name: 'W', observe: all })
    for await (const _ of handle) void _
    await handle.result
    await sleep(20)
    const seen = frames(all.events)
    const input = seen.find((e) => e.at === 'input' && e.frame.type === 'text')
    const left = seen.find((e) => e.processor === 'W/waits' && e.frame.type === 'text')
    expect(input).toBeDefined()
    expect(left).toBeDefined()
    expect((left as FrameEvent).time - (input as FrameEvent).time).toBeGreaterThanOrEqual(20)
  })
})
