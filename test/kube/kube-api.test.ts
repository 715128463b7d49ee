import {readFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  ServerConfiguration,
  VersionApi,
  createConfiguration,
  wrapHttpLibrary,
} from '@kubernetes/client-node'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {PrerequisiteError} from '../../src/lib/errors.js'
import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {isApiStatus, nullIfNotFound} from '../../src/lib/kube/kube-errors.js'
import {sendWithDeadline} from '../../src/lib/kube/kube-http.js'
import {FAKE_CONTEXT, kubeConfigFor} from '../support/kube-api-server.js'

/** Everything of a request the API server acts on. */
interface Recorded {
  method: string
  url: string
  contentType: string | undefined
  accept: string | undefined
  authorization: string | undefined
  body: string
}

interface Reply {
  status: number
  contentType?: string
  body: string
}

type Clients = Pick<KubeConnection, 'core' | 'apps' | 'coordination' | 'networking' | 'discovery' | 'version'>

const json = (body: unknown, status = 200): Reply => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(body),
})

/** Real objects recorded on a cluster: the last state of each kind in the healthy rollout. */
function recorded(kind: string): Record<string, unknown> {
  const lines = readFileSync(
    new URL('../fixtures/k8s/healthy-rollout/events.jsonl', import.meta.url),
    'utf8',
  ).trim()
  const objects = lines
    .split('\n')
    .map((line) => (JSON.parse(line) as {object: {kind?: string}}).object)
    .filter((object) => object.kind === kind)
  return objects.at(-1) as Record<string, unknown>
}
const node = JSON.parse(
  readFileSync(new URL('../fixtures/real-cluster/node-status-images.json', import.meta.url), 'utf8'),
) as Record<string, unknown>

const meta = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  namespace: 'dev',
  uid: '0b5d0c1e-2f4a-4b6c-8d0e-1f2a3b4c5d6e',
  resourceVersion: '1221',
  creationTimestamp: '2026-11-21T20:38:31Z',
  ...extra,
})
const list = (kind: string, items: unknown[]) =>
  json({kind, apiVersion: 'v1', metadata: {resourceVersion: '7'}, items})
const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: meta('todo-secrets', {labels: {'app.kubernetes.io/managed-by': 'todo-deploy'}}),
  type: 'Opaque',
  data: {OPENAI_API_KEY: Buffer.from('test-secret-value').toString('base64')},
}
/** What the CLI sends: typed objects, without the fields the server sets. */
const secretBody = {
  metadata: {name: 'todo-secrets', labels: {'app.kubernetes.io/managed-by': 'todo-deploy'}},
  type: 'Opaque',
  data: secret.data,
}
const configMap = {apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('todo-state'), data: {record: '{}'}}
const lease = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: meta('todo-lock'),
  spec: {
    holderIdentity: 'host/42',
    acquireTime: '2026-11-21T20:38:31.123456Z',
    renewTime: '2026-11-21T20:38:41.123456Z',
    leaseDurationSeconds: 30,
  },
}
const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: meta('todo-frontend-service'),
  spec: {
    type: 'NodePort',
    selector: {app: 'frontend'},
    ports: [{port: 80, targetPort: 3000, nodePort: 30080}],
  },
}
const namespace = {apiVersion: 'v1', kind: 'Namespace', metadata: {...meta('dev'), namespace: undefined}}
const status = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: {name: 'x'}}
const ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: meta('todo'),
  spec: {rules: [{host: 'todo.example.com'}]},
  status: {loadBalancer: {ingress: [{ip: '203.0.113.7'}]}},
}
const endpointSlice = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: meta('todo-frontend-service-7s682', {
    labels: {'kubernetes.io/service-name': 'todo-frontend-service'},
  }),
  addressType: 'IPv4',
  ports: [{name: 'http', port: 3000, protocol: 'TCP'}],
  endpoints: [
    {
      addresses: ['10.244.0.5'],
      conditions: {ready: true, serving: true, terminating: false},
      nodeName: 'minikube',
      targetRef: {kind: 'Pod', name: 'todo-frontend-5d54599645-c6w2x', namespace: 'dev', uid: 'a1'},
    },
  ],
}

/** Every call the CLI makes, with the parameters it passes (and the optional ones the clients accept). */
const CALLS: {what: string; reply: Reply; call: (clients: Clients) => Promise<unknown>}[] = [
  {
    what: 'version',
    reply: json({major: '1', minor: '32', gitVersion: 'v1.32.0'}),
    call: (c) => c.version.getCode(),
  },
  {what: 'read namespace', reply: json(namespace), call: (c) => c.core.readNamespace({name: 'dev'})},
  {
    what: 'create namespace',
    reply: json(namespace, 201),
    call: (c) =>
      c.core.createNamespace({
        body: {metadata: {name: 'dev', labels: {'app.kubernetes.io/managed-by': 'x'}}},
      }),
  },
  {what: 'delete namespace', reply: json(status), call: (c) => c.core.deleteNamespace({name: 'dev'})},
  {what: 'list nodes', reply: list('NodeList', [node]), call: (c) => c.core.listNode()},
  {
    what: 'read configmap',
    reply: json(configMap),
    call: (c) => c.core.readNamespacedConfigMap({name: 'todo-state', namespace: 'dev'}),
  },
  {
    what: 'list configmaps',
    reply: list('ConfigMapList', [configMap]),
    call: (c) => c.core.listNamespacedConfigMap({namespace: 'dev'}),
  },
  {
    what: 'create configmap',
    reply: json(configMap, 201),
    call: (c) =>
      c.core.createNamespacedConfigMap({
        namespace: 'dev',
        body: {metadata: {name: 'todo-state'}, data: {record: '{}'}},
      }),
  },
  {
    what: 'replace configmap',
    reply: json(configMap),
    call: (c) =>
      c.core.replaceNamespacedConfigMap({
        name: 'todo-state',
        namespace: 'dev',
        body: {metadata: {name: 'todo-state', resourceVersion: '12'}, data: {record: '{"a":1}'}},
      }),
  },
  {
    what: 'delete configmap',
    reply: json(status),
    call: (c) => c.core.deleteNamespacedConfigMap({name: 'todo-state', namespace: 'dev'}),
  },
  {
    what: 'read secret',
    reply: json(secret),
    call: (c) => c.core.readNamespacedSecret({name: 'todo-secrets', namespace: 'dev'}),
  },
  {
    what: 'list secrets by label',
    reply: list('SecretList', [secret]),
    call: (c) => c.core.listNamespacedSecret({namespace: 'dev', labelSelector: 'owner=helm,name=todo'}),
  },
  {
    what: 'create secret',
    reply: json(secret, 201),
    call: (c) => c.core.createNamespacedSecret({namespace: 'dev', body: secretBody}),
  },
  {
    what: 'replace secret (name needing encoding)',
    reply: json(secret),
    call: (c) => c.core.replaceNamespacedSecret({name: 'odd name/%', namespace: 'dev', body: secretBody}),
  },
  {
    what: 'delete secret, foreground',
    reply: json(status, 202),
    call: (c) =>
      c.core.deleteNamespacedSecret({
        name: 'todo-secrets',
        namespace: 'dev',
        propagationPolicy: 'Foreground',
      }),
  },
  {
    what: 'read service',
    reply: json(service),
    call: (c) => c.core.readNamespacedService({name: 'todo-frontend-service', namespace: 'dev'}),
  },
  {
    what: 'list services',
    reply: list('ServiceList', [service]),
    call: (c) => c.core.listNamespacedService({namespace: 'dev'}),
  },
  {
    what: 'list services everywhere',
    reply: list('ServiceList', [service]),
    call: (c) => c.core.listServiceForAllNamespaces(),
  },
  {
    what: 'list pods by label, field and limit',
    reply: list('PodList', [recorded('Pod')]),
    call: (c) =>
      c.core.listNamespacedPod({
        namespace: 'dev',
        labelSelector: 'app=frontend',
        fieldSelector: 'status.phase=Running',
        limit: 50,
      }),
  },
  {
    what: 'list events',
    reply: list('EventList', [recorded('Event')]),
    call: (c) => c.core.listNamespacedEvent({namespace: 'dev'}),
  },
  {
    what: 'read a log tail',
    reply: {
      status: 200,
      contentType: 'text/plain',
      body: '2026-11-21T20:38:31Z started\nlistening on :3000\n',
    },
    call: (c) =>
      c.core.readNamespacedPodLog({
        name: 'frontend-1',
        namespace: 'dev',
        container: 'frontend',
        previous: true,
        sinceSeconds: 60,
        tailLines: 40,
        timestamps: true,
      }),
  },
  {
    what: 'list deployments',
    reply: list('DeploymentList', [recorded('Deployment')]),
    call: (c) =>
      c.apps.listNamespacedDeployment({namespace: 'dev', labelSelector: 'app.kubernetes.io/instance=todo'}),
  },
  {
    what: 'list replicasets',
    reply: list('ReplicaSetList', [recorded('ReplicaSet')]),
    call: (c) => c.apps.listNamespacedReplicaSet({namespace: 'dev'}),
  },
  {
    what: 'read lease',
    reply: json(lease),
    call: (c) => c.coordination.readNamespacedLease({name: 'todo-lock', namespace: 'dev'}),
  },
  {
    what: 'create lease',
    reply: json(lease, 201),
    call: (c) =>
      c.coordination.createNamespacedLease({
        namespace: 'dev',
        body: {metadata: {name: 'todo-lock'}, spec: {holderIdentity: 'me'}},
      }),
  },
  {
    what: 'replace lease (Date fields serialized)',
    reply: json(lease),
    call: (c) =>
      c.coordination.replaceNamespacedLease({
        name: 'todo-lock',
        namespace: 'dev',
        body: {
          metadata: {name: 'todo-lock', resourceVersion: '3'},
          spec: {holderIdentity: 'me', renewTime: new Date('2026-11-21T20:38:41.5Z')},
        },
      }),
  },
  {
    what: 'delete lease with a precondition',
    reply: json(status),
    call: (c) =>
      c.coordination.deleteNamespacedLease({
        name: 'todo-lock',
        namespace: 'dev',
        body: {preconditions: {resourceVersion: '3'}},
      }),
  },
  {
    what: 'list ingresses',
    reply: list('IngressList', [ingress]),
    call: (c) => c.networking.listNamespacedIngress({namespace: 'dev'}),
  },
  {
    what: 'list endpointslices',
    reply: list('EndpointSliceList', [endpointSlice]),
    call: (c) =>
      c.discovery.listNamespacedEndpointSlice({
        namespace: 'dev',
        labelSelector: 'kubernetes.io/service-name=todo-frontend-service',
      }),
  },
]

describe('the hand-written API clients send and answer exactly as client-node generated clients did', () => {
  let server: http.Server
  let url: string
  let reply: Reply
  let requests: Recorded[]
  let before: Clients
  let after: KubeConnection

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        requests.push({
          method: request.method ?? '',
          url: request.url ?? '',
          contentType: request.headers['content-type'],
          accept: request.headers.accept,
          authorization: request.headers.authorization,
          body: Buffer.concat(chunks).toString('utf8'),
        })
        // No Date header, so that two answers to the same request are the same bytes.
        response.sendDate = false
        response.writeHead(
          reply.status,
          reply.contentType === undefined ? {} : {'content-type': reply.contentType},
        )
        response.end(reply.body)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const kc = kubeConfigFor({url})
    // What KubeConnection built before: the generated classes over the same deadline-bounded library.
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(url, {}),
      authMethods: {default: kc},
      httpApi: wrapHttpLibrary({send: (request) => sendWithDeadline(request, 3000)}),
    })
    before = {
      core: new CoreV1Api(configuration),
      apps: new AppsV1Api(configuration),
      coordination: new CoordinationV1Api(configuration),
      networking: new NetworkingV1Api(configuration),
      discovery: new DiscoveryV1Api(configuration),
      version: new VersionApi(configuration),
    }
    after = new KubeConnection({kc, context: FAKE_CONTEXT, server: url}, {timeoutMs: 3000})
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  beforeEach(() => {
    requests = []
  })

  /** The request each client sent and what it resolved to (or rejected with). */
  async function both(call: (clients: Clients) => Promise<unknown>) {
    const outcome = async (clients: Clients) => {
      try {
        return {value: await call(clients)}
      } catch (error) {
        return {error}
      }
    }
    const old = await outcome(before)
    const now = await outcome(after)
    expect(requests).toHaveLength(2)
    return {old, now, oldRequest: requests[0] as Recorded, newRequest: requests[1] as Recorded}
  }

  it.each(CALLS)(
    '$what: same method, path, query, headers, body and typed result',
    async ({reply: given, call}) => {
      reply = given
      const {old, now, oldRequest, newRequest} = await both(call)
      expect(newRequest).toStrictEqual(oldRequest)
      expect(newRequest.authorization).toBe('Bearer fake-token')
      expect(old.error).toBeUndefined()
      // Same classes (V1Pod, ...) and Date fields, not just the same JSON.
      expect(now.value).toStrictEqual(old.value)
    },
  )

  it('sends a body only where the generated clients did, and the Secret as its model serializes it', async () => {
    reply = json(secret, 201)
    await after.core.createNamespacedSecret({namespace: 'dev', body: secretBody})
    reply = json(status)
    await after.core.deleteNamespacedSecret({name: 'todo-secrets', namespace: 'dev'})
    expect(
      requests.map(({method, url: path, contentType, body}) => ({
        method,
        path,
        contentType,
        body: body === '' ? undefined : (JSON.parse(body) as unknown),
      })),
    ).toEqual([
      {
        method: 'POST',
        path: '/api/v1/namespaces/dev/secrets',
        contentType: 'application/json',
        body: secretBody,
      },
      {
        method: 'DELETE',
        path: '/api/v1/namespaces/dev/secrets/todo-secrets',
        contentType: 'application/json',
        body: undefined,
      },
    ])
  })

  const failures: {what: string; reply: Reply}[] = [
    {
      what: '404 NotFound',
      reply: json(
        {
          kind: 'Status',
          status: 'Failure',
          message: 'secrets "todo-secrets" not found',
          reason: 'NotFound',
          code: 404,
        },
        404,
      ),
    },
    {
      what: '409 Conflict',
      reply: json(
        {
          kind: 'Status',
          status: 'Failure',
          message: 'the object has been modified',
          reason: 'Conflict',
          code: 409,
        },
        409,
      ),
    },
    {
      what: '500 with a Status body',
      reply: json(
        {kind: 'Status', status: 'Failure', message: 'etcdserver: request timed out', code: 500},
        500,
      ),
    },
    {
      what: '503 with a text body',
      reply: {status: 503, contentType: 'text/plain', body: 'service unavailable'},
    },
    {what: '401 Unauthorized', reply: json({kind: 'Status', message: 'Unauthorized', code: 401}, 401)},
  ]

  it.each(failures)('$what: the same ApiException (code, body, headers, message)', async ({reply: given}) => {
    reply = given
    const {old, now} = await both((c) =>
      c.core.readNamespacedSecret({name: 'todo-secrets', namespace: 'dev'}),
    )
    expect(old.error).toBeInstanceOf(ApiException)
    expect(now.error).toBeInstanceOf(ApiException)
    const fields = (error: unknown) => {
      const {code, body, headers, message} = error as ApiException<unknown>
      return {code, body, headers, message}
    }
    expect(fields(now.error)).toStrictEqual(fields(old.error))
  })

  it('a 204 without Content-Type fails as the generated client failed (read as "no logs yet")', async () => {
    reply = {status: 204, body: ''}
    const {old, now} = await both((c) =>
      c.core.readNamespacedPodLog({name: 'p', namespace: 'dev', container: 'c'}),
    )
    expect((now.error as Error).message).toBe((old.error as Error).message)
    expect((now.error as Error).message).toContain('No Content-Type')
  })

  it('the adapters read the failures as before: 404 is absent, 409 a conflict, 500 the server failing', async () => {
    reply = failures[0]!.reply
    await expect(
      nullIfNotFound(after.core.readNamespacedSecret({name: 'todo-secrets', namespace: 'dev'})),
    ).resolves.toBeNull()
    reply = failures[1]!.reply
    const conflict = await after.coordination
      .replaceNamespacedLease({name: 'todo-lock', namespace: 'dev', body: {metadata: {name: 'todo-lock'}}})
      .catch((error: unknown) => error)
    expect(isApiStatus(conflict, 409)).toBe(true)
    reply = failures[2]!.reply
    const failed = await after
      .call({verb: 'get', resource: 'secrets', name: 'todo-secrets', namespace: 'dev'}, () =>
        after.core.readNamespacedSecret({name: 'todo-secrets', namespace: 'dev'}),
      )
      .catch((error: unknown) => error)
    expect(failed).toBeInstanceOf(PrerequisiteError)
    expect(failed).toMatchObject({
      message: `the Kubernetes API at ${url} failed to get secrets/todo-secrets in namespace dev (HTTP 500)`,
      details: ['the API server said: etcdserver: request timed out'],
    })
  })
})
