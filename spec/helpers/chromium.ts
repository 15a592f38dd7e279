/**
 * Headless Chromium for the browser specs: Debian's `chromium` package, started with the flags that keep it off the
 * network (this machine has none besides loopback) and a fresh profile of the spec's own.
 */
import { join } from 'node:path'

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/** The command-line flags of a headless run with its profile in `dir`. */
export function chromiumArgs(dir: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${join(dir, 'profile')}`,
  ]
}
