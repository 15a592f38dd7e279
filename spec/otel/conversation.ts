import { Frames, type Frame, type PipelineTask, type TaskResult } from '../../lib/index.js'
import { sleep } from '../helpers/collect.js'

const isText = (f: Frame): boolean => f.kind === 'data' && f.type === 'text'

/**
 * Runs `task` as a short conversation: `questions` text frames (`<prefix><k>`), each queued once the answer to the
 * one before has reached the sink (bounded wait), then `end`. Resolves with the task's result once the output is read
 * and the observers have received everything.
 */
export async function converse(task: PipelineTask, questions = 2, prefix = 'question '): Promise<TaskResult> {
  let answers = 0
  const reading = (async () => {
    for await (const f of task.frames()) if (isText(f)) answers++
  })()
  const done = task.run()
  for (let k = 0; k < questions; k++) {
    await task.queueFrame(Frames.text(`${prefix}${k}`))
    for (let i = 0; i < 2000 && answers <= k; i++) await sleep(5)
  }
  task.stopWhenDone()
  const result = await done
  await reading
  await task.observersIdle()
  return result
}
