import { describe, expect, it } from 'vitest'
import { Frames, PipelineTask, map, pipeline, type Frame, type ObserverEvent, type ObserverHandle, type ObserverObject } from '../../lib/index.js'

const upper = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(f.text.toUpperCase()) : f), 'upper')
const exclaim = map((f) => (f.kind === 'data' && f.type === 'text' ? Frames.text(`${f.text}!`) : f), 'exclaim')
const texts = (from: number, n: number): Frame[] => Array.from({ length: n }, (_, i) => Frames.text(`t${from + i}`))

const failing = map((f) => {
  if (f.kind === 'data' && f.type === 'text' && f.text.endsWith('7')) throw new Error('no sevens')
  return f
}, 'failing')

/** An event without its time: what two runs of the same input have in common. */
function key(e: ObserverEvent): string {
  if (e.type !== 'frame') return e.type === 'ended' ? `ended:${e.status}` : e.type
  const f = e.frame
  return `${e.at}:${e.direction}:${e.processor}:${f.kind === 'data' && f.type === 'text' ? f.text : f.type}`
}

/** An observer that takes nothing until `open()` (its first event waits on a gate), and keeps up from then on. */
function gated(name: string, capacity: number, select: Partial<ObserverObject> = {}): { observer: ObserverObject; got: string[]; open: () => void } {
  let release = (): void => undefined
  let opened = false
  const gate = new Promise<void>((resolve) => (release = resolve))
  const got: string[] = []
  const onEvent = (e: ObserverEvent): Promise<void> | undefined => {
    got.push(key(e))
    return opened ? undefined : gate
  }
  const open = (): void => {
    opened = true
    release()
  }
  return { observer: { name, capacity, ...select, onEvent }, got, open }
}

/**
 * A task over two fused maps, read to the end; `phases` are queued in turn, `between` runs after each but the last.
 * A phase after the first is fed as a live source does: one frame per turn of the event loop.
 */
async function session(observers: readonly ObserverObject[], phases: readonly Frame[][], between: (phase: number, handles: readonly ObserverHandle[]) => Promise<void> = async () => undefined) {
  const task = new PipelineTask(pipeline(upper, exclaim), { name: 'D' })
  return drive(task, observers, phases, between)
}

async function drive(task: PipelineTask, observers: readonly ObserverObject[], phases: readonly Frame[][], between: (phase: number, handles: readonly ObserverHandle[]) => Promise<void> = async () => undefined, lost = 0, attached: (handles: readonly ObserverHandle[]) => void = () => undefined) {
  const handles = observers.map((o) => task.observe(o))
  attached(handles)
  let out = 0
  let seen = 0
  const reading = (async () => {
    for await (const f of task.frames()) if (f.kind === 'data') out++
  })()
  const done = task.run()
  for (let p = 0; p < phases.length; p++) {
    const frames = phases[p] as Frame[]
    if (p === 0) await task.queueFrames(frames)
    else {
      for (const f of frames) {
        await task.queueFrame(f)
        await new Promise((r) => setImmediate(r))
      }
    }
    seen += frames.length
    for (let spin = 0; out < seen - lost && spin < 1000; spin++) await new Promise((r) => setTimeout(r, 1))
    expect(out).toBe(seen - lost)
    if (p < phases.length - 1) await between(p, handles)
  }
  task.stopWhenDone()
  expect((await done).status).toBe('ended')
  await reading
  return { task, handles }
}

/** Every event of a session, as one observer that keeps up sees it. */
async function reference(phases: readonly Frame[][], select: Partial<ObserverObject> = {}): Promise<string[]> {
  const all: string[] = []
  const { handles } = await session([{ name: 'all', ...select, onEvent: (e) => void all.push(key(e)) }], phases)
  await handles[0]?.idle()
  expect(handles[0]?.stats()).toMatchObject({ dropped: 0, delivered: all.length })
  return all
}

describe('a slow observer', () => {
  it('is counted every event it misses while it is full; what it had queued is delivered in order, then the end', async () => {
    const phases = [texts(0, 60)]
    const all = await reference(phases)
    const slow = gated('slow', 8)
    const { handles } = await session([slow.observer], phases)
    const handle = handles[0]
    if (handle === undefined) throw new Error('no handle')
    // Its queue filled with the first eight events. When delivery began before the task ended, the first of them was
    // taken (it waits on the gate) and the slot it freed went to the next event recorded after that, a later one;
    // nothing else was recorded but `ended`, which pushes out the oldest queued event.
    const taken = handle.stats().delivered
    expect(taken === 0 || taken === 1).toBe(true)
    expect(handle.stats()).toMatchObject({ queued: 8, dropped: all.length - 8 - taken })
    slow.open()
    await handle.idle()
    const refilled = slow.got.slice(7, 7 + taken)
    expect(slow.got).toEqual([...all.slice(0, taken), ...all.slice(taken + 1, 8), ...refilled, 'ended:ended'])
    for (const event of refilled) expect(all.indexOf(event, 8)).toBeGreaterThanOrEqual(8)
    expect(handle.stats()).toMatchObject({ delivered: 8 + taken, queued: 0, dropped: all.length - 8 - taken, failures: 0 })
  })

  it('gets everything again once it has room: recording resumes, nothing is lost after it drained', async () => {
    const phases = [texts(0, 40), texts(40, 40)]
    const all = await reference(phases)
    const slow = gated('slow', 8)
    let droppedBefore = -1
    let gotBefore = -1
    const { handles } = await session([slow.observer], phases, async (_, [first]) => {
      if (first === undefined) throw new Error('no handle')
      slow.open()
      await first.idle()
      droppedBefore = first.stats().dropped
      gotBefore = slow.got.length
    })
    const handle = handles[0]
    if (handle === undefined) throw new Error('no handle')
    await handle.idle()
    // Phase one: the first events up to its capacity kept, the rest counted. Phase two: every event delivered, in order.
    expect(gotBefore === 8 || gotBefore === 9).toBe(true)
    expect(slow.got.slice(0, gotBefore)).toEqual(all.slice(0, gotBefore))
    expect(slow.got.slice(gotBefore)).toEqual(all.slice(all.length - (slow.got.length - gotBefore)))
    expect(handle.stats()).toMatchObject({ dropped: droppedBefore, queued: 0, delivered: slow.got.length })
    expect(slow.got.length + droppedBefore).toBe(all.length)
    // Everything of the second phase (4 events per frame: input, upper, exclaim, output) reached it.
    expect(slow.got.filter((k) => /^output:down:D:T(4|5|6|7)\d!$/.test(k))).toHaveLength(40)
  })

  it('counts exactly when a step of a fused run throws while it is full', async () => {
    const frames = texts(0, 60)
    const all: string[] = []
    const ref = await drive(new PipelineTask(pipeline(upper, failing, exclaim), { name: 'D' }), [{ name: 'all', onEvent: (e) => void all.push(key(e)) }], [frames], undefined, 6)
    await ref.handles[0]?.idle()
    // Every frame ending in 7 stops at the failing step: it has left `upper` only.
    expect(all.filter((k) => k.startsWith('processor:down:D/failing:'))).toHaveLength(60 - 6 + 2)
    const slow = gated('slow', 8)
    const { handles } = await drive(new PipelineTask(pipeline(upper, failing, exclaim), { name: 'D' }), [slow.observer], [frames], undefined, 6)
    const handle = handles[0]
    if (handle === undefined) throw new Error('no handle')
    slow.open()
    await handle.idle()
    expect(handle.stats().delivered).toBe(slow.got.length)
    expect(handle.stats().delivered + handle.stats().dropped).toBe(all.length)
  })
})

describe('a slow and a fast observer', () => {
  it('the fast one loses nothing; the slow one counts exactly what it missed', async () => {
    const phases = [texts(0, 60)]
    const all = await reference(phases)
    const slow = gated('slow', 8)
    const fast: string[] = []
    const { handles } = await session([slow.observer, { name: 'fast', onEvent: (e) => void fast.push(key(e)) }], phases)
    const [slowHandle, fastHandle] = handles
    if (slowHandle === undefined || fastHandle === undefined) throw new Error('no handle')
    await fastHandle.idle()
    expect(fast).toEqual(all)
    expect(fastHandle.stats()).toMatchObject({ delivered: all.length, dropped: 0 })
    slow.open()
    await slowHandle.idle()
    const s = slowHandle.stats()
    expect(s.delivered).toBe(slow.got.length)
    expect(s.delivered + s.dropped).toBe(all.length)
    expect(s.dropped).toBeGreaterThan(0)
    // What it got is in the order of the run, ending with the newest events.
    const positions = slow.got.map((k, i) => all.indexOf(k, i === 0 ? 0 : all.indexOf(slow.got[i - 1] as string) + 1))
    expect(positions.every((p, i) => p >= 0 && (i === 0 || p > (positions[i - 1] as number)))).toBe(true)
    expect(slow.got.at(-1)).toBe('ended:ended')
  })

  it('with different selections, an event only one observer selects is dropped for it alone', async () => {
    const phases = [texts(0, 60)]
    const outputs = { at: ['output'] as const, kinds: ['data'] as const }
    const allOutputs = await reference(phases, { at: ['output'], kinds: ['data'] })
    const all = await reference(phases)
    expect(allOutputs.filter((k) => k.startsWith('output:'))).toHaveLength(60)
    const slowAll = gated('slowAll', 4)
    const slowOut = gated('slowOut', 4, { at: [...outputs.at], kinds: [...outputs.kinds] })
    const fastOut: string[] = []
    const { handles } = await session(
      [slowAll.observer, slowOut.observer, { name: 'fastOut', at: ['output'], kinds: ['data'], onEvent: (e) => void fastOut.push(key(e)) }],
      phases,
    )
    const [a, o, f] = handles
    if (a === undefined || o === undefined || f === undefined) throw new Error('no handle')
    slowAll.open()
    slowOut.open()
    await Promise.all([a.idle(), o.idle(), f.idle()])
    expect(fastOut).toEqual(allOutputs)
    expect(f.stats()).toMatchObject({ delivered: allOutputs.length, dropped: 0 })
    expect(o.stats().delivered + o.stats().dropped).toBe(allOutputs.length)
    expect(o.stats().dropped).toBeGreaterThan(0)
    expect(slowOut.got.every((k) => k.startsWith('output:') || k === 'ended:ended')).toBe(true)
    expect(a.stats().delivered + a.stats().dropped).toBe(all.length)
    expect(a.stats().dropped).toBeGreaterThan(0)
  })

  it('two slow observers with different selections: each counts exactly the events it selects', async () => {
    const phases = [texts(0, 60)]
    const allOutputs = await reference(phases, { at: ['output'], kinds: ['data'] })
    const allProcessors = await reference(phases, { at: ['processor'], processors: ['exclaim'] })
    const slowOut = gated('slowOut', 4, { at: ['output'], kinds: ['data'] })
    const slowExclaim = gated('slowExclaim', 4, { at: ['processor'], processors: ['exclaim'] })
    const { handles } = await session([slowOut.observer, slowExclaim.observer], phases)
    const [o, x] = handles
    if (o === undefined || x === undefined) throw new Error('no handle')
    slowOut.open()
    slowExclaim.open()
    await Promise.all([o.idle(), x.idle()])
    expect(o.stats().delivered + o.stats().dropped).toBe(allOutputs.length)
    expect(x.stats().delivered + x.stats().dropped).toBe(allProcessors.length)
    expect(slowExclaim.got.every((k) => k.startsWith('processor:down:D/exclaim:') || k === 'started' || k === 'ended:ended')).toBe(true)
    expect(o.stats().dropped).toBeGreaterThan(0)
    expect(x.stats().dropped).toBeGreaterThan(0)
  })
})

describe('an observer that detaches itself', () => {
  it('gets nothing after detach(), also from the batch it was being handed, and the others lose nothing', async () => {
    const phases = [texts(0, 30)]
    const all = await reference(phases)
    let calls = 0
    let self: ObserverHandle | undefined
    const leaving: ObserverObject = {
      name: 'leaving',
      onEvent: () => {
        calls++
        self?.detach()
      },
    }
    const stays: string[] = []
    const task = new PipelineTask(pipeline(upper, exclaim), { name: 'D' })
    const { handles } = await drive(task, [leaving, { name: 'stays', onEvent: (e) => void stays.push(key(e)) }], phases, undefined, 0, (hs) => (self = hs[0]))
    await handles[1]?.idle()
    expect(calls).toBe(1)
    expect(stays).toEqual(all)
  })
})

