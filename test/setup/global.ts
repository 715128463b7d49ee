import {rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {HELM_MAJORS, ensureLayer} from '../support/helm-binaries.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * Before the workers start: unpack the real helm binaries once (workers would race), and drop the
 * `oclif.manifest.json` a build writes: with it present oclif describes commands from the manifest and
 * loads the help class from dist/, so the tests would exercise the last build instead of the source.
 * `npm run build` writes it again for a fast start-up of the built CLI.
 */
export default function setup(): void {
  for (const major of HELM_MAJORS) ensureLayer(major)
  rmSync(path.join(root, 'oclif.manifest.json'), {force: true})
}
