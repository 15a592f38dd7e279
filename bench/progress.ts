/**
 * Progress of `npm run bench` on a terminal: one status line (`[3/8] B3 parallel and sync-parallel … 4.2 s`) rewritten
 * in place, kept below whatever the benchmarks print. Nothing at all when stdout is not a TTY (CI logs, pipes, files).
 */

/** The status line of a running benchmark suite. */
export interface Progress {
  /** Starts step `label` (the next of the total). */
  step(label: string): void
  /** Removes the status line and stops updating it. */
  stop(): void
}

const CLEAR_LINE = '\r\x1b[2K'
const NONE: Progress = { step: () => undefined, stop: () => undefined }

/**
 * A progress line for `total` steps on `stream` (default stdout), or a no-op when it is not a TTY. While active,
 * `console.log`/`console.error` output is written above the line (the line is cleared, the text printed, the line
 * drawn again). The elapsed time is refreshed every 250 ms, whenever the event loop gets a turn between measurements.
 */
export function startProgress(total: number, stream: NodeJS.WriteStream = process.stdout): Progress {
  if (stream.isTTY !== true) return NONE
  let index = 0
  let label = ''
  let since = performance.now()
  let active = true
  const draw = (): void => {
    if (!active || label === '') return
    const seconds = ((performance.now() - since) / 1000).toFixed(1)
    const line = `[${index}/${total}] ${label} … ${seconds} s`
    const width = stream.columns > 0 ? stream.columns - 1 : line.length
    stream.write(`${CLEAR_LINE}${line.slice(0, width)}`)
  }
  const clear = (): void => {
    stream.write(CLEAR_LINE)
  }
  const originalLog = console.log
  const originalError = console.error
  const above =
    (print: (...args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      clear()
      print(...args)
      draw()
    }
  console.log = above(originalLog)
  console.error = above(originalError)
  const timer = setInterval(draw, 250)
  timer.unref()
  return {
    step(next: string): void {
      index++
      label = next
      since = performance.now()
      draw()
    },
    stop(): void {
      if (!active) return
      active = false
      clearInterval(timer)
      clear()
      console.log = originalLog
      console.error = originalError
    },
  }
}
