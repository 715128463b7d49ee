import {existsSync, readdirSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {HELM_MAJORS, ensureLayer} from '../support/helm-binaries.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * Before the workers start: unpack the real helm binaries once (workers would race), and drop an
 * `oclif.manifest.json` older than the command sources: oclif would describe commands from it, so help
 * and flag tests would see yesterday's flags (STACK.md). `npm run build` writes a fresh one.
 */
export default function setup(): void {
  for (const major of HELM_MAJORS) ensureLayer(major)
  const manifest = path.join(root, 'oclif.manifest.json')
  if (existsSync(manifest) && statSync(manifest).mtimeMs < newestSource(path.join(root, 'src'))) rmSync(manifest)
}

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}
