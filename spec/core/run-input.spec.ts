import { describe, expect, it } from 'vitest'
import { Frames, run, type Frame } from '../../lib/index.js'

describe('run() over a fast async input', () => {
  it('a break stops reading the input at once, even while a stage needs a turn of the event loop to close', async () => {
    // Bounded, so that a regression shows as frames pulled after the break instead of a hung worker.
    const LIMIT = 200_000
    let pulled = 0
    async function* fast(): AsyncGenerator<Frame> {
      while (pulled < LIMIT) {
        pulled++
        yield Frames.text('x')
      }
    }
    const slowToClose = async function* slowToClose(source: AsyncIterable<Frame>) {
      try {
        yield* source
      } finally {
        // Teardown that needs a macrotask: a feeder that kept pulling in microtasks would starve it.
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }
    let atBreak = 0
    let n = 0
    for await (const f of run(slowToClose, fast())) {
      if (f.type === 'text' && ++n === 3) {
        atBreak = pulled
        break
      }
    }
    // Before the fix the feeder went on pulling (and dropping) until the input ran out: LIMIT frames.
    expect(pulled - atBreak).toBeLessThan(100)
  })
})
