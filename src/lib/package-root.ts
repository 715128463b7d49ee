import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * The folder of the nearest package.json above `moduleUrl`: the CLI package itself, whether the code runs
 * from src/ (tests, bin/dev.js) or from the bundle in dist/ (a chunk sits at another depth than its source).
 */
export function packageRootOf(moduleUrl: string): string {
  const start = path.dirname(fileURLToPath(moduleUrl))
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`)
  }
}
