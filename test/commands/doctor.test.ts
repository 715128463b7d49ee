import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, test} from 'vitest'
import {z} from 'zod'

import Doctor from '../../src/commands/doctor.js'
import {setAllSecrets, withPreflight} from '../cli/doctor-env.js'
import {MissingHelmPreflight, PassingPreflight} from '../cli/fake-preflight.js'
import {DEFAULT_CONTEXT_FOLDERS, tempProject} from '../config/temp-project.js'
import {projectRoot, runCommand} from '../support/run-command.js'

let probes: PassingPreflight = new PassingPreflight()
withPreflight(() => probes)

const RULE_BREAKS = readFileSync(
  path.join(projectRoot, 'test', 'fixtures', 'config', 'rule-breaks.yaml'),
  'utf8',
)

/** The contract of `doctor --json` (README): an array of checks. */
const doctorJson = z.array(
  z.strictObject({
    id: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/),
    check: z.string().min(1),
    status: z.enum(['pass', 'warn', 'fail']),
    detail: z.string(),
    fix: z.string().min(1).nullable(),
  }),
)

const PREREQUISITES = [
  'prereq.docker',
  'prereq.helm',
  'prereq.kube-context',
  'prereq.minikube',
  'prereq.cluster',
]

async function doctor(
  argv: string[],
  files: Record<string, string> = {},
  fake: PassingPreflight = new PassingPreflight(),
) {
  probes = fake
  return runCommand<unknown>(Doctor, argv, {cwd: tempProject({...DEFAULT_CONTEXT_FOLDERS, ...files})})
}

describe('todo-deploy doctor (fake probes)', () => {
  test('a ready machine: one ✔ line per check, a summary, exit 0', async () => {
    setAllSecrets()
    const run = await doctor([])
    expect(run.exitCode).toBe(0)
    const lines = run.stdout.trim().split('\n')
    const checkLines = lines.filter((line) => /^[✔!✖] /.test(line))
    expect(checkLines.length).toBe(23)
    expect(checkLines.every((line) => line.startsWith('✔ '))).toBe(true)
    for (const id of [
      ...PREREQUISITES,
      'secrets.present',
      'config.build-inputs',
      'k8s.replicas.range',
      'image.name-pattern',
      'chart.fields',
      'cluster.node-port-free',
    ]) {
      expect(checkLines.filter((line) => line.includes(`[${id}]`))).toHaveLength(1)
    }
    expect(lines.at(-1)).toBe('23 passed, 0 warnings, 0 failed: ready to deploy')
    expect(run.stderr).toBe('')
  })

  test('a missing prerequisite: its ✖ line, the fix under it, exit 3', async () => {
    setAllSecrets()
    const run = await doctor([], {}, new MissingHelmPreflight())
    expect(run.exitCode).toBe(3)
    expect(run.stdout).toContain(
      '✖ helm 3.8+ or 4.x on PATH [prereq.helm]: helm is not installed (not found on PATH)\n    fix: install helm 3.8+ or 4.x: https://helm.sh/docs/intro/install/\n',
    )
    expect(run.stdout).toContain('a prerequisite is missing')
  })

  test('broken data-model rules: each ✖ line names file:line:col and the key, exit 2', async () => {
    setAllSecrets()
    const run = await doctor([], {'todo-deploy.yaml': RULE_BREAKS})
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toContain(
      '✖ replica count [k8s.replicas.range]: todo-deploy.yaml:7:15 services.backend.replicas: 9 replicas on a single-node minikube cluster (at most 4)\n    fix: use 2 replicas locally',
    )
    expect(run.stdout).toContain(
      '[k8s.resources.request-le-limit]: todo-deploy.yaml:10:17 services.backend.resources.requests.memory: memory request 1Gi is above its limit 512Mi',
    )
    expect(run.stdout).toContain(
      '[image.name-pattern]: todo-deploy.yaml:5:19 services.frontend.image.repository: image reference "Todo-Frontend:0123456789ab" has uppercase letters',
    )
    expect(run.stdout).toContain('3 failed: the configuration breaks a rule')
  })

  test('a broken rule wins over a missing prerequisite: exit 2, and the summary names both', async () => {
    setAllSecrets()
    const run = await doctor([], {'todo-deploy.yaml': RULE_BREAKS}, new MissingHelmPreflight())
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toContain('failed: the configuration breaks a rule, and a prerequisite is missing')
  })

  test('a warning (3 replicas on minikube) shows "!" and its fix but still exits 0', async () => {
    setAllSecrets()
    const run = await doctor([], {'todo-deploy.yaml': 'services:\n  frontend:\n    replicas: 3\n'})
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain(
      '! replica count [k8s.replicas.range]: todo-deploy.yaml:3:15 services.frontend.replicas: 3 replicas on minikube: 2 are recommended\n    fix: lower replicaCount to 2 unless you test scaling',
    )
    expect(run.stdout).toContain('1 warnings, 0 failed')
  })

  test('--json prints only an array of {id, check, status, detail, fix}, exit 0', async () => {
    setAllSecrets()
    const run = await doctor(['--json'])
    expect(run.exitCode).toBe(0)
    const checks = doctorJson.parse(JSON.parse(run.stdout))
    expect(checks.map((check) => check.id).slice(0, 6)).toEqual([...PREREQUISITES, 'secrets.present'])
    expect(checks.every((check) => check.status === 'pass' && check.fix === null)).toBe(true)
  })

  test('--json with a failure keeps the array shape, carries the fix and exits 2 / 3', async () => {
    setAllSecrets()
    const broken = await doctor(['--json'], {'todo-deploy.yaml': RULE_BREAKS})
    expect(broken.exitCode).toBe(2)
    const replicas = doctorJson
      .parse(JSON.parse(broken.stdout))
      .find((check) => check.id === 'k8s.replicas.range')
    expect(replicas).toMatchObject({status: 'fail', fix: 'use 2 replicas locally'})

    const noHelm = await doctor(['--json'], {}, new MissingHelmPreflight())
    expect(noHelm.exitCode).toBe(3)
    expect(
      doctorJson.parse(JSON.parse(noHelm.stdout)).find((check) => check.id === 'prereq.helm')?.status,
    ).toBe('fail')
  })

  test('--context picks the kube context and the cluster tool follows it', async () => {
    setAllSecrets()
    const fake = new PassingPreflight()
    const run = await doctor(['--context', 'kind-dev'], {}, fake)
    expect(fake.contextsAsked).toEqual(['kind-dev'])
    expect(fake.clustersAsked).toEqual([{kind: 'kind', name: 'dev'}])
    expect(run.stdout).toContain('✔ kind installed and the cluster running [prereq.kind]')
  })

  test('a misspelled key in todo-deploy.yaml: exit 2, file:line:col and "did you mean" on stderr, nothing on stdout', async () => {
    setAllSecrets()
    const run = await doctor([], {'todo-deploy.yaml': 'release: todo-chatbot\nnamspace: todo-app-dev\n'})
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('✖ todo-deploy.yaml: 1 problem in the configuration')
    expect(run.stderr).toContain('todo-deploy.yaml:2:1  namspace: unknown key (did you mean "namespace"?)')
  })

  test('a bad flag value names the flag: exit 2', async () => {
    const run = await doctor(['--release', 'Todo_Chatbot'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('--release  release: must be lowercase letters')
  })

  test('--config pointing at a missing file: exit 2, where: --config', async () => {
    const run = await doctor(['--config', 'missing.yaml'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/✖ config file .*missing\.yaml does not exist\n {2}where: --config\n/)
  })
})
