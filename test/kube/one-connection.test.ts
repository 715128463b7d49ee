import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {PrerequisiteError} from '../../src/lib/errors.js'
import {KubeClusterApi} from '../../src/lib/kube/kube-client.js'
import {RolloutTracker} from '../../src/lib/kube/rollout/rollout-tracker.js'
import {KubeWorkloadSource} from '../../src/lib/kube/workload-source.js'
import {
  closedPortUrl,
  connectionTo as connect,
  FAKE_CONTEXT,
  FakeKubeApiServer,
} from '../support/kube-api-server.js'

// Every adapter reaches the API server through the one KubeConnection it is given: its deadline, its
// credentials and its wording, whichever adapter made the call.

const RETRY = {attempts: 2, initialDelayMs: 20, maxDelayMs: 20}

async function rejection(promise: Promise<unknown>): Promise<PrerequisiteError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(PrerequisiteError)
  return error as PrerequisiteError
}

describe('one connection for every adapter', () => {
  let server: FakeKubeApiServer
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
  })
  afterAll(() => server.stop())
  afterEach(() => server.clearFaults())

  it("a workload snapshot sends the connection's credentials and keeps its deadline", async () => {
    const source = new KubeWorkloadSource(connect(server, 300))
    await source.snapshot('todo-app-dev', 'app.kubernetes.io/instance=todo')
    expect(server.requests.at(-1)?.authorization).toBe('Bearer fake-token')

    server.injectFault({kind: 'hang'})
    const started = Date.now()
    const error = await rejection(source.snapshot('slow', 'app.kubernetes.io/instance=todo'))
    expect(Date.now() - started).toBeLessThan(2500)
    expect(error.message).toMatch(
      new RegExp(
        `^the Kubernetes API at ${server.url} did not answer "list (deployments|pods|services) in namespace slow" \\(GET /.*\\) within 0.3s$`,
      ),
    )
  })

  it('a refused workload snapshot is worded like any other call that was refused', async () => {
    server.injectFault({kind: 'status', code: 403, message: 'deployments.apps is forbidden'})
    const error = await rejection(new KubeWorkloadSource(connect(server)).snapshot('locked', 'app=x'))
    expect(error.message).toMatch(
      /^kube context fake-context is not allowed to list (deployments|pods|services) in namespace locked \(403 Forbidden\)$/,
    )
    expect(error.details).toEqual(['the API server said: deployments.apps is forbidden'])
  })
})

describe('one wording when the API server is unreachable', () => {
  it('a workload snapshot says it as the cluster API does', async () => {
    const url = await closedPortUrl()
    const kube = connect({url})
    const fromApi = await rejection(new KubeClusterApi(kube).listPods('todo-app-dev'))
    const fromSnapshot = await rejection(new KubeWorkloadSource(kube).snapshot('todo-app-dev', 'app=x'))
    expect(fromApi.message).toBe(
      `cannot reach the Kubernetes API at ${url} (ECONNREFUSED) to list pods in namespace todo-app-dev`,
    )
    expect(fromSnapshot.message).toMatch(
      new RegExp(
        `^cannot reach the Kubernetes API at ${url} \\(ECONNREFUSED\\) to list (deployments|pods|services) in namespace todo-app-dev$`,
      ),
    )
    expect(fromSnapshot.fix).toBe(fromApi.fix)
    expect(fromSnapshot.where).toBe(fromApi.where)
  })

  it('a workload watch and a rollout wait give up with the same message', async () => {
    const url = await closedPortUrl()
    const kube = connect({url})
    const watching = await rejection(new KubeWorkloadSource(kube, RETRY).watch('fx', 'app=x', () => false))
    const tracking = await rejection(
      new RolloutTracker(kube, {retry: RETRY}).track({
        namespace: 'fx',
        labelSelector: 'app=x',
        timeoutMs: 30_000,
      }),
    )
    const lost = new RegExp(
      `^Lost the Kubernetes API server at ${url}: 2 attempts to list/watch \\w+ in namespace fx failed over \\d+ s \\(last error: ECONNREFUSED\\)$`,
    )
    expect(watching.message).toMatch(lost)
    expect(tracking.message).toMatch(lost)
    expect(watching.where).toBe(`kube context ${FAKE_CONTEXT} (${url})`)
    expect(tracking.where).toBe(watching.where)
    expect(tracking.fix).toBe(watching.fix)
    expect(watching.fix).toContain('minikube status')
  })
})
