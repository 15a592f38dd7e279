/**
 * Fails the test during which an unhandled promise rejection or uncaught exception happens. Vitest also reports
 * such errors at the end of the run and exits non-zero; this makes the failure point at the test that caused it.
 */
import { afterEach } from 'vitest'

const seen: unknown[] = []
const onRejection = (reason: unknown): void => {
  seen.push(reason)
}
process.on('unhandledRejection', onRejection)
process.on('uncaughtException', onRejection)

afterEach(async () => {
  // Let rejections of the test's last turn surface before checking.
  await new Promise((resolve) => setImmediate(resolve))
  if (seen.length > 0) {
    const errors = seen.splice(0)
    throw new Error(`unhandled rejection or exception during this test: ${errors.map(String).join('; ')}`)
  }
})
