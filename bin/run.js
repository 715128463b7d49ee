#!/usr/bin/env node
import module from 'node:module'

// Node 22.1+ keeps V8's compiled code of the bundle on disk between runs (Node 20 has no such cache).
module.enableCompileCache?.()

const {execute} = await import('../dist/run.js')
await execute({dir: import.meta.url})
