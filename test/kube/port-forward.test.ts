import http from 'node:http'
import net, {type AddressInfo} from 'node:net'

import {CoreV1Api} from '@kubernetes/client-node'
import {afterEach, describe, expect, it} from 'vitest'

import {kubeAppReach} from '../../src/lib/kube/app-reach.js'
import {ServicePortForward} from '../../src/lib/kube/port-forward.js'
import {ExitCode} from '../../src/lib/errors.js'
import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {FakeKubeApiServer, type KubeObject, kubeConfigFor} from '../support/kube-api-server.js'
import {PORT_FORWARD_PROTOCOL, PortForwardApiServer} from '../support/port-forward-server.js'
import {loadScenario} from '../support/replay-api-server.js'

const NAMESPACE = 'todo-app-dev'
const SELECTOR = {'app.kubernetes.io/instance': 'todo', 'app.kubernetes.io/name': 'frontend'}

/** The last recorded state of each pod of a real healthy rollout: Running, Ready=True, port `http` 3000. */
function recordedReadyPods(): KubeObject[] {
  const last = new Map<string, KubeObject>()
  for (const event of loadScenario('healthy-rollout').events) {
    const object = event.object as unknown as KubeObject
    if (object.kind === 'Pod') last.set(object.metadata.name, object)
  }
  return [...last.values()]
}

function pod(template: KubeObject, name: string, createdAt: string, ready = true): KubeObject {
  const copy = structuredClone(template) as KubeObject & {
    status: {conditions: {type: string; status: string}[]}
  }
  copy.metadata = {
    name,
    namespace: NAMESPACE,
    labels: {...SELECTOR, 'pod-template-hash': 'abc'},
    creationTimestamp: createdAt,
  }
  copy.status.conditions = copy.status.conditions.map((condition) =>
    condition.type === 'Ready' ? {...condition, status: ready ? 'True' : 'False'} : condition,
  )
  return copy
}

/** A stand-in for a pod's app: an HTTP server on 127.0.0.1 that says which pod it is. */
async function podApp(name: string, status = 200): Promise<{port: number; close: () => Promise<void>}> {
  const server = http.createServer((request, response) => {
    response.writeHead(status, {'content-type': 'text/plain'})
    response.end(`${name} ${request.url}`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function get(url: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    http
      .get(url, {agent: false}, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({status: response.statusCode ?? 0, body}))
      })
      .on('error', reject)
  })
}

describe('ServicePortForward through client-node', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function cluster(apps: Record<string, {port: number}>): Promise<{
    api: FakeKubeApiServer
    server: PortForwardApiServer
    connection: KubeConnection
    kc: ReturnType<typeof kubeConfigFor>
  }> {
    const api = await FakeKubeApiServer.start()
    cleanups.push(() => api.stop())
    api.seed('namespaces', {metadata: {name: NAMESPACE}})
    api.seed('services', {
      metadata: {name: 'frontend', namespace: NAMESPACE},
      spec: {
        type: 'NodePort',
        selector: SELECTOR,
        ports: [{name: 'http', port: 80, targetPort: 'http', nodePort: 30080}],
      },
    })
    const server = await PortForwardApiServer.start(api, (name, port) =>
      port === 3000 ? apps[name]?.port : undefined,
    )
    cleanups.push(() => server.stop())
    const kc = kubeConfigFor(server)
    return {
      api,
      server,
      kc,
      connection: new KubeConnection({kc, context: 'fake-context', server: server.url}),
    }
  }

  async function start(
    setup: Awaited<ReturnType<typeof cluster>>,
    problems: string[] = [],
  ): Promise<ServicePortForward> {
    const forward = await ServicePortForward.start({
      connection: setup.connection,
      kc: setup.kc,
      namespace: NAMESPACE,
      service: 'frontend',
      onProblem: (message) => problems.push(message),
    })
    cleanups.push(() => forward.close())
    return forward
  }

  /** Pod frontend-a Ready and forwarded to; frontend-b has an app but no pod yet. */
  async function forwardingToPodA(): Promise<{
    setup: Awaited<ReturnType<typeof cluster>>
    forward: ServicePortForward
    template: KubeObject
  }> {
    const [template] = recordedReadyPods() as [KubeObject]
    const first = await podApp('frontend-a')
    const second = await podApp('frontend-b')
    cleanups.push(first.close, second.close)
    const setup = await cluster({'frontend-a': first, 'frontend-b': second})
    setup.api.seed('pods', pod(template, 'frontend-a', '2026-11-27T10:00:00Z'))
    return {setup, forward: await start(setup), template}
  }

  it('forwards a free local port to the newest Ready pod on the named targetPort, verified by a GET', async () => {
    const [template] = recordedReadyPods() as [KubeObject]
    const ready = await podApp('frontend-new')
    const notReady = await podApp('frontend-starting')
    cleanups.push(ready.close, notReady.close)
    const setup = await cluster({'frontend-old': ready, 'frontend-new': ready, 'frontend-starting': notReady})
    setup.api.seed('pods', pod(template, 'frontend-old', '2026-11-27T10:00:00Z'))
    setup.api.seed('pods', pod(template, 'frontend-new', '2026-11-27T11:00:00Z'))
    setup.api.seed('pods', pod(template, 'frontend-starting', '2026-11-27T12:00:00Z', false))

    const forward = await start(setup)
    expect(forward.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(forward.target).toEqual({pod: 'frontend-new', port: 3000})
    // The verifying GET went through the real WebSocket path, with the kubeconfig's credentials.
    expect(setup.server.sessions).toEqual([
      {
        namespace: NAMESPACE,
        pod: 'frontend-new',
        port: 3000,
        authorization: 'Bearer fake-token',
        protocol: PORT_FORWARD_PROTOCOL,
      },
    ])

    const answers = await Promise.all([get(`${forward.url}/api/todos`), get(`${forward.url}/`)])
    expect(answers).toEqual([
      {status: 200, body: 'frontend-new /api/todos'},
      {status: 200, body: 'frontend-new /'},
    ])
  })

  it('follows the Service to a new pod when the old one is gone, without a restart', async () => {
    const {setup, forward, template} = await forwardingToPodA()
    expect((await get(forward.url)).body).toBe('frontend-a /')

    // A rollout replaced the pod: the old one is deleted, the upgrade to it is refused (404).
    setup.api.seed('pods', pod(template, 'frontend-b', '2026-11-27T11:00:00Z'))
    await setup.kc.makeApiClient(CoreV1Api).deleteNamespacedPod({name: 'frontend-a', namespace: NAMESPACE})
    expect((await get(forward.url)).body).toBe('frontend-b /')
    expect(forward.target).toEqual({pod: 'frontend-b', port: 3000})
  })

  it('after refresh() (a rollout finished) the next connection goes to the newest Ready pod', async () => {
    const {setup, forward, template} = await forwardingToPodA()
    setup.api.seed('pods', pod(template, 'frontend-b', '2026-11-27T11:00:00Z'))
    expect((await get(forward.url)).body).toBe('frontend-a /')
    forward.refresh()
    expect((await get(forward.url)).body).toBe('frontend-b /')
  })

  it("reports the kubelet's error for a pod whose port does not answer, and looks for a pod again", async () => {
    const [template] = recordedReadyPods() as [KubeObject]
    const app = await podApp('frontend-a')
    const replacement = await podApp('frontend-b')
    cleanups.push(app.close, replacement.close)
    const apps: Record<string, {port: number}> = {'frontend-a': app, 'frontend-b': replacement}
    const setup = await cluster(apps)
    setup.api.seed('pods', pod(template, 'frontend-a', '2026-11-27T10:00:00Z'))
    const problems: string[] = []
    const forward = await start(setup, problems)

    // The container stopped listening; a new pod is Ready meanwhile, which the cached target does not know.
    delete apps['frontend-a']
    setup.api.seed('pods', pod(template, 'frontend-b', '2026-11-27T11:00:00Z'))
    await expect(get(forward.url)).rejects.toThrow()
    expect(problems).toEqual([
      'port-forward to pod frontend-a port 3000: error forwarding port 3000 to pod frontend-a: connection refused',
    ])
    expect((await get(forward.url)).body).toBe('frontend-b /')
  })

  it('refuses to start without a Ready pod, or when the app answers 5xx, and then listens on nothing', async () => {
    const [template] = recordedReadyPods() as [KubeObject]
    const broken = await podApp('frontend-broken', 503)
    cleanups.push(broken.close)
    const setup = await cluster({'frontend-broken': broken})
    setup.api.seed('pods', pod(template, 'frontend-starting', '2026-11-27T10:00:00Z', false))
    await expect(start(setup)).rejects.toMatchObject({
      exitCode: ExitCode.DeployFailed,
      message: 'no Ready pod behind service frontend to port-forward to',
      fix: 'see why the pods are not ready: todo-deploy status',
    })

    setup.api.seed('pods', pod(template, 'frontend-broken', '2026-11-27T11:00:00Z'))
    const port = await freePort()
    await expect(
      ServicePortForward.start({
        connection: setup.connection,
        kc: setup.kc,
        namespace: NAMESPACE,
        service: 'frontend',
        localPort: port,
      }),
    ).rejects.toMatchObject({message: 'the port-forward to service frontend answers HTTP 503'})
    await expect(connects(port)).resolves.toBe(false)
  })

  it('close() stops listening', async () => {
    const [template] = recordedReadyPods() as [KubeObject]
    const app = await podApp('frontend-a')
    cleanups.push(app.close)
    const setup = await cluster({'frontend-a': app})
    setup.api.seed('pods', pod(template, 'frontend-a', '2026-11-27T10:00:00Z'))
    const forward = await start(setup)
    const port = forward.localPort
    await forward.close()
    await expect(connects(port)).resolves.toBe(false)
  })

  describe('kubeAppReach (what up --port-forward and dev use)', () => {
    async function reachPodA() {
      const [template] = recordedReadyPods() as [KubeObject]
      const app = await podApp('frontend-a')
      cleanups.push(app.close)
      const setup = await cluster({'frontend-a': app})
      setup.api.seed('pods', pod(template, 'frontend-a', '2026-11-27T10:00:00Z'))
      return {
        setup,
        reach: kubeAppReach(
          {kc: setup.kc, context: 'fake-context', server: setup.server.url},
          setup.connection,
        ),
      }
    }

    it('listens on the preferred port when it is free, and the URL reaches the pod', async () => {
      const {setup, reach} = await reachPodA()
      const preferred = await freePort()
      const forward = await reach.forward(NAMESPACE, 'frontend', {preferredLocalPort: preferred})
      cleanups.push(() => forward.close())
      expect(forward.url).toBe(`http://127.0.0.1:${preferred}`)
      await expect(get(`${forward.url}/todos`)).resolves.toEqual({status: 200, body: 'frontend-a /todos'})
      expect(setup.server.sessions.map((session) => session.pod)).toEqual(['frontend-a', 'frontend-a'])
    })

    it('the preferred port taken by another program: a free port instead, not a failure', async () => {
      const {reach} = await reachPodA()
      const taken = net.createServer()
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
      cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())))
      const takenPort = (taken.address() as AddressInfo).port
      const forward = await reach.forward(NAMESPACE, 'frontend', {preferredLocalPort: takenPort})
      cleanups.push(() => forward.close())
      expect(forward.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(forward.url).not.toBe(`http://127.0.0.1:${takenPort}`)
      await expect(get(forward.url)).resolves.toMatchObject({status: 200, body: 'frontend-a /'})
    })
  })
})

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })
}
