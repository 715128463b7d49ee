import {mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, expect, test, vi} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import {tempProject} from '../config/temp-project.js'
import {runCommand} from '../support/run-command.js'

// The REAL SystemPreflight (no test doubles) on a machine without minikube, helm or a cluster:
// PATH holds only `node`, HOME is empty (no ~/.kube/config), KUBECONFIG is unset.
let bareDirs: string[] = []

beforeEach(() => {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-bare-path-'))
  const home = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-empty-home-'))
  bareDirs = [bin, home]
  symlinkSync(process.execPath, path.join(bin, 'node'))
  vi.stubEnv('PATH', bin)
  vi.stubEnv('HOME', home)
  vi.stubEnv('KUBECONFIG', undefined)
  vi.stubEnv('NO_COLOR', '1')
})

afterEach(() => {
  vi.unstubAllEnvs()
  for (const dir of bareDirs) rmSync(dir, {recursive: true, force: true})
})

test('doctor on a machine without helm, minikube or a cluster lists each missing prerequisite with its fix and exits 3', async () => {
  const run = await runCommand(Doctor, [], {cwd: tempProject()})
  expect(run.exitCode).toBe(3)
  const block = (id: string): string => {
    const lines = run.stdout.split('\n')
    const index = lines.findIndex((line) => line.includes(`[${id}]`))
    expect(index, `a line for ${id} in:\n${run.stdout}`).toBeGreaterThanOrEqual(0)
    return [lines[index], lines[index + 1]].join('\n')
  }
  expect(block('prereq.helm')).toMatch(/^✖ helm .*\[prereq\.helm\]: .*helm was not found.*\n {4}fix: .*helm/i)
  expect(block('prereq.kube-context')).toMatch(
    /^✖ kube context \[prereq\.kube-context\]: no kubeconfig found at .*\.kube\/config.*\n {4}fix: .*minikube start/,
  )
  expect(block('prereq.minikube')).toMatch(
    /^✖ minikube installed and the cluster running \[prereq\.minikube\]: .*minikube.*not found.*\n {4}fix: .*minikube/i,
  )
  expect(block('prereq.cluster')).toMatch(
    /^✖ cluster reachable \[prereq\.cluster\]: skipped: no usable kube context\n {4}fix: fix the kube context first/,
  )
  expect(run.stdout).toContain('a prerequisite is missing')
  expect(run.stderr).toBe('')
})
