import {expect, test} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import {setAllSecrets} from '../cli/doctor-env.js'
import {DEFAULT_CONTEXT_FOLDERS, tempProject} from '../config/temp-project.js'
import {useBareMachine} from '../support/bare-machine.js'
import {runCommand} from '../support/run-command.js'

// The REAL SystemPreflight (no test doubles) on a machine without minikube, helm or a cluster.
useBareMachine()

test('doctor on a machine without helm, minikube or a cluster lists each missing prerequisite with its fix and exits 3', async () => {
  // Only the prerequisites are missing: a missing secret or build context (bad input, exit 2) would win.
  setAllSecrets()
  const run = await runCommand(Doctor, [], {cwd: tempProject(DEFAULT_CONTEXT_FOLDERS)})
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
