import {mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, vi} from 'vitest'

/**
 * Runs each test of the file on a machine without a cluster, for the REAL preflight probes: PATH holds
 * only `node` and the given binaries (name → path), HOME is empty (no ~/.kube/config), KUBECONFIG is unset.
 */
export function useBareMachine(binaries: () => Record<string, string> = () => ({})): void {
  let dirs: string[] = []
  beforeEach(() => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-bare-path-'))
    const home = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-empty-home-'))
    dirs = [bin, home]
    for (const [name, target] of Object.entries({node: process.execPath, ...binaries()})) {
      symlinkSync(target, path.join(bin, name))
    }
    vi.stubEnv('PATH', bin)
    vi.stubEnv('HOME', home)
    vi.stubEnv('KUBECONFIG', undefined)
    vi.stubEnv('NO_COLOR', '1')
  })
  afterEach(() => {
    vi.unstubAllEnvs()
    for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
  })
}
