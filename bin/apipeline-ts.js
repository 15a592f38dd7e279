#!/usr/bin/env node
// The package's command line: `npx apipeline-ts trace view FILE` (see lib/trace/cli.ts).
import { main } from '../dist/lib/trace/cli.js'

process.exitCode = await main(process.argv.slice(2))
