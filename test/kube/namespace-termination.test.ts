import {readFileSync} from 'node:fs'
import path from 'node:path'

import {ApiException} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/lib/errors.js'
import {helmFailure} from '../../src/lib/helm/helm-errors.js'
import {KubeClusterApi} from '../../src/lib/kube/kube-client.js'
import {toKubeError} from '../../src/lib/kube/kube-errors.js'
import {NamespaceTerminatingError} from '../../src/lib/kube/namespace-termination.js'
import {LeaseReleaseLock} from '../../src/lib/kube/release-lock.js'
import {connectionTo, FakeKubeApiServer, type KubeObject} from '../support/kube-api-server.js'
import {projectRoot} from '../support/run-command.js'

/** Recorded on a real v1.24 cluster: see test/fixtures/k8s/namespace-terminating/README.md. */
const FIXTURES = path.join(projectRoot, 'test', 'fixtures', 'k8s', 'namespace-terminating')
const recorded = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>
const TARGET = {server: 'https://127.0.0.1:8443', context: 'minikube'}

function expectNamespaceBeingDeleted(error: unknown, namespace: string): void {
  expect(error).toBeInstanceOf(NamespaceTerminatingError)
  const refused = error as NamespaceTerminatingError
  expect(refused.exitCode).toBe(ExitCode.DeployFailed)
  expect(refused.namespace).toBe(namespace)
  expect(refused.message).toContain(`namespace ${namespace} is being deleted (Terminating)`)
  // Never the RBAC diagnosis: the user has the right, the namespace is going away.
  expect(`${refused.message} ${refused.fix}`).not.toMatch(/not allowed|grant the user|auth can-i/)
  expect(refused.fix).toContain(`kubectl get namespace ${namespace}`)
}

describe('a 403 because the namespace is being terminated is never reported as missing RBAC', () => {
  it.each(['lease-create-403.json', 'configmap-create-403.json'])('the API server answer %s', (file) => {
    const body = recorded(file)
    const resource = file.startsWith('lease') ? 'leases' : 'configmaps'
    const error = toKubeError(
      new ApiException(403, 'Forbidden', body, {}),
      {verb: 'create', resource, name: 'x', namespace: 'nsw-probe'},
      TARGET,
    )
    expectNamespaceBeingDeleted(error, 'nsw-probe')
    expect((error as NamespaceTerminatingError).details.join('\n')).toContain(
      'unable to create new content in namespace nsw-probe because it is being terminated',
    )
  })

  it('the same Status as text (a status code client-node does not declare)', () => {
    const error = toKubeError(
      new ApiException(403, 'Forbidden', JSON.stringify(recorded('lease-create-403.json')), {}),
      {verb: 'create', resource: 'leases', name: 'x', namespace: 'nsw-probe'},
      TARGET,
    )
    expectNamespaceBeingDeleted(error, 'nsw-probe')
  })

  it('a 403 that is about rights stays the RBAC diagnosis', () => {
    const error = toKubeError(
      new ApiException(
        403,
        'Forbidden',
        {
          kind: 'Status',
          message: 'leases is forbidden: User "dev" cannot create resource "leases"',
          code: 403,
        },
        {},
      ),
      {verb: 'create', resource: 'leases', namespace: 'app'},
      TARGET,
    )
    expect(error).not.toBeInstanceOf(NamespaceTerminatingError)
    expect((error as Error).message).toContain('is not allowed to create leases')
  })

  it("helm's own error text for it (helm upgrade --install into a Terminating namespace)", () => {
    const stderr = readFileSync(path.join(FIXTURES, 'helm-install-stderr.txt'), 'utf8')
    const error = helmFailure(
      {exitCode: 1, stdout: '', stderr},
      {
        operation: 'helm upgrade --install',
        release: 'nsw-tiny',
        namespace: 'nsw-probe',
        kind: 'change',
        masked: [],
      },
    )
    expectNamespaceBeingDeleted(error, 'nsw-probe')
    expect(error.message).toContain('`helm upgrade --install` was refused')
  })
})

describe('KubeClusterApi and the lock against an API server over HTTP: a Terminating namespace', () => {
  let server: FakeKubeApiServer
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
  })
  afterAll(() => server.stop())

  it('readNamespace says it is terminating and what holds it; ensureNamespace refuses to use it', async () => {
    const namespace = recorded('namespace.json') as KubeObject
    server.seed('namespaces', namespace)
    const api = new KubeClusterApi(connectionTo(server))
    expect(await api.readNamespace('nsw-probe')).toEqual({
      name: 'nsw-probe',
      ours: false,
      terminating: true,
      finalizers: ['kubernetes'],
      holding: [
        'NamespaceContentRemaining: Some resources are remaining: configmaps. has 1 resource instances',
        'NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
      ],
    })
    expectNamespaceBeingDeleted(
      await api.ensureNamespace('nsw-probe').catch((error: unknown) => error),
      'nsw-probe',
    )
    expect(await api.readNamespace('never-created')).toBeNull()
  })

  it("the lock's Lease refused with the recorded 403: the namespace is being deleted, exit 5", async () => {
    server.injectFault(
      {kind: 'recorded', code: 403, body: recorded('lease-create-403.json')},
      (request) => request.method === 'POST' && request.path.includes('/leases'),
      1,
    )
    const lock = new LeaseReleaseLock(connectionTo(server))
    const error = await lock
      .acquire({namespace: 'nsw-probe', release: 'nsw', holder: 'me@host pid 1', command: 'todo-deploy up'})
      .catch((caught: unknown) => caught)
    expectNamespaceBeingDeleted(error, 'nsw-probe')
  })
})
