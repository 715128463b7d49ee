import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import {BadInputError, ExitCode} from '../../src/lib/errors.js'
import {KubeClusterApi} from '../../src/lib/kube/kube-client.js'
import {runUp, type UpResult} from '../../src/lib/lifecycle/up.js'
import {setAllSecrets, withPreflight} from '../cli/doctor-env.js'
import {PassingPreflight} from '../cli/fake-preflight.js'
import {tempProject as tempConfigProject} from '../config/temp-project.js'
import {FakeCluster, testSecrets, type TestProject} from '../support/fake-connection.js'
import {connectionTo, FakeKubeApiServer} from '../support/kube-api-server.js'
import {NAMESPACE, tempProject, UP_OPTIONS} from '../support/lifecycle-fixtures.js'
import {runCommand} from '../support/run-command.js'

const OTHER = {namespace: 'other-project', name: 'their-frontend', nodePort: 30080}

async function upError(p: TestProject, fake: FakeCluster): Promise<BadInputError> {
  const error = await runUp(p.resolved, fake.connection, testSecrets(), UP_OPTIONS).catch(
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(BadInputError)
  return error as BadInputError
}

describe('up: a fixed nodePort held by another Service', () => {
  test('exits 2 before anything is built, naming the holder and its namespace, with the fix', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.api.nodePortServices = [OTHER]
    const error = await upError(p, fake)
    expect(error.exitCode).toBe(ExitCode.BadInput)
    expect(error.message).toBe(
      'nodePort 30080 of todo-frontend-service is already held by Service their-frontend in namespace other-project',
    )
    // The default config does not set it: the key and the default are named instead of a file line.
    expect(error.where).toBe('services.frontend.service.nodePort (default 30080)')
    expect(error.fix).toContain('`services.frontend.service.nodePort: null`')
    expect(error.fix).toContain('30000-32767')
    const result = (error as BadInputError & {result?: UpResult}).result
    expect(result?.phases.map((phase) => [phase.phase, phase.state])).toEqual([['preflight', 'failed']])
    expect(fake.log.count('engine.build')).toBe(0)
    expect(fake.log.count('lock.acquire')).toBe(0)
    expect(fake.helm.upgrades).toHaveLength(0)
  })

  test('names the config file line when the config sets the port', async () => {
    const p = tempProject({frontend: ['service:', '  nodePort: 30081']})
    const fake = new FakeCluster()
    fake.api.nodePortServices = [{...OTHER, nodePort: 30081}]
    const error = await upError(p, fake)
    expect(error.where).toBe('todo-deploy.yaml:5:17')
    expect(error.fix).toContain('(todo-deploy.yaml:5:17)')
  })

  test("the release's own Service holding the port is fine (an upgrade keeps it)", async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.api.nodePortServices = [{namespace: NAMESPACE, name: 'todo-frontend-service', nodePort: 30080}]
    const result = await runUp(p.resolved, fake.connection, testSecrets(), UP_OPTIONS)
    expect(result.state).toBe('Healthy')
  })

  test('an automatic port (nodePort: null) asks the cluster nothing', async () => {
    const p = tempProject({frontend: ['service: {nodePort: null}']})
    const fake = new FakeCluster()
    fake.api.nodePortServices = [OTHER]
    await runUp(p.resolved, fake.connection, testSecrets(), UP_OPTIONS)
    expect(fake.log.count('api.nodePortHolders')).toBe(0)
  })
})

describe('doctor: the same check by its rule id', () => {
  let probes = new PassingPreflight()
  withPreflight(() => probes)

  test('a held nodePort fails [cluster.node-port-free] naming the holder; exit 2', async () => {
    setAllSecrets()
    probes = new PassingPreflight()
    probes.nodePortServices.push(OTHER)
    const run = await runCommand<unknown>(Doctor, [], {cwd: tempConfigProject({})})
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toContain(
      '✖ fixed nodePorts free on the cluster [cluster.node-port-free]: nodePort 30080 of todo-frontend-service is already held by Service their-frontend in namespace other-project\n    fix: set `services.frontend.service.nodePort: null`',
    )
  })

  test('free ports pass, and --json reports the check by id', async () => {
    setAllSecrets()
    probes = new PassingPreflight()
    const run = await runCommand<unknown>(Doctor, ['--json'], {cwd: tempConfigProject({})})
    const checks = JSON.parse(run.stdout) as {id: string; status: string; detail: string}[]
    expect(checks.find((check) => check.id === 'cluster.node-port-free')).toMatchObject({
      status: 'pass',
      detail: "free or already this release's: todo-frontend-service 30080",
    })
  })
})

describe('KubeClusterApi.nodePortHolders over HTTP', () => {
  let server: FakeKubeApiServer
  let api: KubeClusterApi
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
    api = new KubeClusterApi(connectionTo(server))
    const service = (namespace: string, name: string, nodePort?: number) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {namespace, name},
      spec: {type: nodePort ? 'NodePort' : 'ClusterIP', ports: [{port: 80, ...(nodePort ? {nodePort} : {})}]},
    })
    server.seed('services', service('other-project', 'their-frontend', 30080))
    server.seed('services', service('todo-app-dev', 'todo-frontend-service', 30090))
    server.seed('services', service('todo-app-dev', 'todo-backend-service'))
  })
  afterAll(() => server.stop())

  test('lists the Services of every namespace that hold the ports asked about', async () => {
    expect(await api.nodePortHolders([30080, 30090, 31000])).toEqual([
      {namespace: 'other-project', name: 'their-frontend', nodePort: 30080},
      {namespace: 'todo-app-dev', name: 'todo-frontend-service', nodePort: 30090},
    ])
    expect(server.requests.at(-1)?.path).toBe('/api/v1/services')
  })

  test('null when the context may not list Services across namespaces (403)', async () => {
    server.injectFault(
      {kind: 'status', code: 403, message: 'services is forbidden'},
      (r) => r.path === '/api/v1/services',
      1,
    )
    expect(await api.nodePortHolders([30080])).toBeNull()
  })
})
