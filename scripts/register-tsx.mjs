// Lets a worker thread import TypeScript modules (the library's own sources, spec fixtures, bench stages) when the
// project runs from its sources: pass `execArgv: ['--import', <this file's URL>]` to the threads.
import { register } from 'tsx/esm/api'

register()
