import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {DeployError, ExitCode, PrerequisiteError} from '../../src/lib/errors.js'
import {KubeClusterApi, MANAGED_BY_LABEL} from '../../src/lib/kube/kube-client.js'
import {
  closedPortUrl,
  connectionTo as connect,
  FAKE_CONTEXT,
  FakeKubeApiServer,
} from '../support/kube-api-server.js'

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('KubeClusterApi against an API server over HTTP', () => {
  let server: FakeKubeApiServer
  let cluster: KubeClusterApi
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
    cluster = new KubeClusterApi(connect(server))
  })
  afterAll(() => server.stop())
  afterEach(() => server.clearFaults())

  it('reads the server version and sends the kubeconfig credentials', async () => {
    server.gitVersion = 'v1.31.4'
    expect(await cluster.serverVersion()).toBe('v1.31.4')
    expect(server.requests.at(-1)?.authorization).toBe('Bearer fake-token')
  })

  it('creates a namespace labelled as ours, then finds it on the second call', async () => {
    expect(await cluster.ensureNamespace('todo-app-dev')).toEqual({created: true})
    expect(server.get('namespaces', undefined, 'todo-app-dev')?.metadata.labels?.[MANAGED_BY_LABEL]).toBe(
      'todo-deploy',
    )
    expect(await cluster.ensureNamespace('todo-app-dev')).toEqual({created: false})
    expect(await cluster.namespaceCreatedByUs('todo-app-dev')).toBe(true)
  })

  it('does not claim a namespace someone else created', async () => {
    server.seed('namespaces', {metadata: {name: 'shared'}})
    expect(await cluster.ensureNamespace('shared')).toEqual({created: false})
    expect(await cluster.namespaceCreatedByUs('shared')).toBe(false)
    expect(await cluster.namespaceCreatedByUs('never-created')).toBe(false)
  })

  it('deletes a namespace and everything in it; deleting again reports nothing deleted', async () => {
    await cluster.ensureNamespace('doomed')
    server.seed('configmaps', {metadata: {name: 'x', namespace: 'doomed'}})
    expect(await cluster.deleteNamespace('doomed')).toEqual({deleted: true})
    expect(server.get('configmaps', 'doomed', 'x')).toBeUndefined()
    expect(await cluster.deleteNamespace('doomed')).toEqual({deleted: false})
  })

  it('lists what lives in a namespace, ignoring what Kubernetes puts there itself', async () => {
    await cluster.ensureNamespace('busy')
    server.seed('configmaps', {metadata: {name: 'kube-root-ca.crt', namespace: 'busy'}})
    server.seed('secrets', {
      metadata: {name: 'default-token-abcde', namespace: 'busy'},
      type: 'kubernetes.io/service-account-token',
    })
    expect(await cluster.listNamespaceObjects('busy')).toEqual({
      deployments: [],
      services: [],
      configMaps: [],
      secrets: [],
      pods: [],
    })

    server.seed('deployments', {metadata: {name: 'other-app', namespace: 'busy'}})
    server.seed('secrets', {metadata: {name: 'todo-app-secrets', namespace: 'busy'}, type: 'Opaque'})
    server.seed('pods', {metadata: {name: 'other-app-1', namespace: 'busy'}})
    expect(await cluster.listNamespaceObjects('busy')).toEqual({
      deployments: ['other-app'],
      services: [],
      configMaps: [],
      secrets: ['todo-app-secrets'],
      pods: ['other-app-1'],
    })
  })

  it('lists pods by label selector', async () => {
    await cluster.ensureNamespace('pods')
    server.seed('pods', {metadata: {name: 'backend-1', namespace: 'pods', labels: {app: 'todo-backend'}}})
    server.seed('pods', {metadata: {name: 'frontend-1', namespace: 'pods', labels: {app: 'todo-frontend'}}})
    const pods = await cluster.listPods('pods', 'app=todo-backend')
    expect(pods.map((pod) => pod.metadata?.name)).toEqual(['backend-1'])
    expect((await cluster.listPods('pods')).length).toBe(2)
  })

  it('GETs a service through the API server proxy and returns status and the start of the body', async () => {
    await cluster.ensureNamespace('web')
    server.seed('services', {metadata: {name: 'todo-backend-service', namespace: 'web'}})
    expect(await cluster.serviceProxyGet('web', 'todo-backend-service', 8080, '/health', 2000)).toEqual({
      status: 503,
      bodySnippet: expect.stringContaining('no endpoints available for service'),
    })

    server.setServiceProxyReply('web', 'todo-backend-service', 8080, (path) => ({
      status: 200,
      body: `ok ${path} ${'x'.repeat(1000)}`,
    }))
    const answer = await cluster.serviceProxyGet('web', 'todo-backend-service', 8080, '/health', 2000)
    expect(answer.status).toBe(200)
    expect(answer.bodySnippet.startsWith('ok /health x')).toBe(true)
    expect(answer.bodySnippet.length).toBe(500)
    expect(server.requests.at(-1)?.path).toBe(
      '/api/v1/namespaces/web/services/todo-backend-service:8080/proxy/health',
    )
  })

  it('names the verb and resource when the context is not allowed (403)', async () => {
    server.injectFault(
      {
        kind: 'status',
        code: 403,
        message: 'namespaces is forbidden: User "dev" cannot create resource "namespaces"',
      },
      (request) => request.method === 'POST',
    )
    const error = await rejection(cluster.ensureNamespace('forbidden'))
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect(error.message).toBe(
      `kube context ${FAKE_CONTEXT} is not allowed to create namespaces/forbidden (403 Forbidden)`,
    )
    expect((error as PrerequisiteError).details.join('\n')).toContain('cannot create resource "namespaces"')
    expect((error as PrerequisiteError).fix).toContain('kubectl auth can-i create namespaces')
  })

  it('says the credentials were rejected (401) and how to refresh them', async () => {
    server.injectFault({kind: 'status', code: 401, message: 'Unauthorized'}, () => true, 1)
    const error = await rejection(cluster.serverVersion())
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect(error.message).toBe(
      `the Kubernetes API at ${server.url} rejected the credentials of kube context ${FAKE_CONTEXT} (401 Unauthorized) while trying to get version`,
    )
    expect((error as PrerequisiteError).fix).toContain('minikube update-context')
  })

  it('says the TLS connection failed when the server does not speak TLS', async () => {
    const tlsUrl = server.url.replace('http:', 'https:')
    const error = await rejection(new KubeClusterApi(connect({url: tlsUrl})).serverVersion())
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect(error.message).toMatch(
      new RegExp(
        `^the TLS connection to the Kubernetes API at ${tlsUrl} failed \\(\\w+\\) while trying to get version$`,
      ),
    )
  })

  it('says the API server failed (exit 3) on a 500, and refused (exit 5) on other errors', async () => {
    server.injectFault({kind: 'status', code: 500, message: 'etcdserver: request timed out'}, () => true, 1)
    const failed = await rejection(cluster.listPods('any'))
    expect((failed as PrerequisiteError).exitCode).toBe(ExitCode.Prerequisite)
    expect(failed.message).toBe(
      `the Kubernetes API at ${server.url} failed to list pods in namespace any (HTTP 500)`,
    )

    server.injectFault({kind: 'status', code: 422, message: 'invalid'}, () => true, 1)
    const refused = await rejection(cluster.listPods('any'))
    expect(refused).toBeInstanceOf(DeployError)
  })

  it('gives up on a call the server never answers, naming the call', async () => {
    const impatient = new KubeClusterApi(connect(server, 300))
    server.injectFault({kind: 'hang'})
    const started = Date.now()
    const error = await rejection(impatient.listPods('slow', 'app=x'))
    expect(Date.now() - started).toBeLessThan(2500)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect(error.message).toBe(
      `the Kubernetes API at ${server.url} did not answer "list pods in namespace slow" (GET /api/v1/namespaces/slow/pods) within 0.3s`,
    )
  })

  it('answers slowly but within the deadline: the call succeeds', async () => {
    server.injectFault({kind: 'delay', ms: 200})
    expect(await new KubeClusterApi(connect(server, 2000)).serverVersion()).toMatch(/^v1\./)
  })
})

describe('KubeClusterApi when nothing listens', () => {
  it('exits 3 naming the URL and suggesting minikube status', async () => {
    const url = await closedPortUrl()
    const error = await rejection(new KubeClusterApi(connect({url})).serverVersion())
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).exitCode).toBe(ExitCode.Prerequisite)
    expect(error.message).toBe(`cannot reach the Kubernetes API at ${url} (ECONNREFUSED) to get version`)
    expect((error as PrerequisiteError).fix).toContain('minikube status')
  })
})
