import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {afterAll, beforeAll, describe, expect, onTestFinished, test} from 'vitest'

import {renderStatus} from '../../src/cli/status-view.js'
import {KubeClusterApi} from '../../src/lib/kube/kube-client.js'
import {verifyHealth} from '../../src/lib/lifecycle/health-check.js'
import {getThroughAddress, type IngressCheckOptions} from '../../src/lib/lifecycle/ingress-check.js'
import {OperationRecorder} from '../../src/lib/lifecycle/operation.js'
import {readStatus} from '../../src/lib/lifecycle/status.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import {FakeCluster, testSecrets, type TestProject} from '../support/fake-connection.js'
import {connectionTo, FakeKubeApiServer} from '../support/kube-api-server.js'
import {NAMESPACE, tempProject, UP_OPTIONS} from '../support/lifecycle-fixtures.js'

const INGRESS = 'todo-chatbot'

/** A project whose frontend is published through an Ingress for todo.local. */
function ingressProject(frontendService?: string): TestProject {
  return tempProject({
    extraConfig: 'ingress:\n  enabled: true\n',
    frontend: frontendService === undefined ? [] : [`service: ${frontendService}`],
  })
}

/** An HTTP server on loopback standing in for an ingress controller: it serves only `host`. */
async function controllerFor(host: string): Promise<{port: number; hosts: string[]}> {
  const hosts: string[] = []
  const server = http.createServer((request, response) => {
    hosts.push(request.headers.host ?? '')
    response.writeHead(request.headers.host === host ? 200 : 404)
    response.end(request.headers.host === host ? '<h1>todo</h1>' : 'default backend - 404')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {port: (server.address() as AddressInfo).port, hosts}
}

/** A fake cluster whose ingress controller (IngressClass nginx) gave the release's Ingress these addresses. */
function clusterWithIngress(addresses: string[]): FakeCluster {
  const fake = new FakeCluster()
  fake.api.ingressClasses.add('nginx')
  fake.api.ingresses = [{name: INGRESS, className: 'nginx', hosts: ['todo.local'], addresses}]
  return fake
}

describe('up with an Ingress URL', () => {
  test('no ingress controller: done and healthy, but warns with the fix and prints the NodePort URL', async () => {
    const p = ingressProject()
    const fake = new FakeCluster()
    const result = await runUp(p.resolved, fake.connection, testSecrets(), UP_OPTIONS)
    expect(result.state).toBe('Healthy')
    expect(result.url).toBe('http://192.168.49.2:30080')
    const warning = result.warnings.find((line) => line.startsWith('http://todo.local is not served'))
    expect(warning).toContain('no IngressClass "nginx"')
    expect(warning).toContain('`minikube addons enable ingress`')
    expect(warning).toContain('`<its address> todo.local` to /etc/hosts')
    expect(warning).toContain('meanwhile use http://192.168.49.2:30080')
    // No controller: nothing to wait for.
    expect(fake.log.count('api.listIngresses')).toBe(0)
  })
})

describe('verifyHealth: the Ingress URL is checked, not assumed', () => {
  async function verify(p: TestProject, fake: FakeCluster, options: Partial<IngressCheckOptions> = {}) {
    const recorder = new OperationRecorder('up')
    const lines: string[] = []
    const health = await verifyHealth(p.resolved, fake.connection, recorder, (line) => lines.push(line), {
      ingress: {addressWaitMs: 200, pollMs: 20, ...options},
    })
    return {health, lines, recorder}
  }

  test('an Ingress without an address: waits a bounded time, then a port-forward URL (ClusterIP frontend)', async () => {
    const p = ingressProject('{type: ClusterIP, nodePort: null}')
    const fake = clusterWithIngress([])
    const started = Date.now()
    const {health, lines, recorder} = await verify(p, fake)
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    expect(fake.log.count('api.listIngresses')).toBeGreaterThan(1)
    expect(lines).toContain('waiting up to 0.2s for the Ingress of todo.local to get an address')
    expect(health.report.url).toBe('http://localhost:8080')
    expect(health.warnings).toHaveLength(1)
    expect(health.warnings[0]).toMatch(
      /^http:\/\/todo\.local is not served: the Ingress todo-chatbot got no address within 0\.\ds \(is an ingress controller running\?\)/,
    )
    expect(health.warnings[0]).toContain(
      'meanwhile use http://localhost:8080 after `kubectl -n todo-app-dev port-forward svc/todo-frontend-service 8080:80`',
    )
    expect(recorder.operation).toMatchObject({url: 'http://localhost:8080', state: 'Healthy'})
  })

  test('a remote cluster whose Ingress gets no address and whose frontend is ClusterIP: no URL (null), the warning says how to reach it', async () => {
    const p = ingressProject('{type: ClusterIP, nodePort: null}')
    const fake = clusterWithIngress([])
    fake.asRemoteWithoutAddress()
    const {health, recorder} = await verify(p, fake)
    expect(health.report.url).toBeNull()
    expect(health.warnings[0]).toContain('meanwhile use `todo-deploy up --port-forward` or `todo-deploy dev`')
    expect(health.warnings.join('\n')).not.toContain('kubectl')
    // The app is still checked from this machine, through a short-lived port-forward.
    expect(fake.log.count('reach.forward')).toBe(1)
    expect(fake.reach.open).toBe(0)
    expect(recorder.operation.url).toBeUndefined()
  })

  test('an address that serves the host, and the host resolves there: http://todo.local, no warning', async () => {
    const p = ingressProject()
    const fake = clusterWithIngress(['127.0.0.1'])
    const controller = await controllerFor('todo.local')
    const {health} = await verify(p, fake, {httpPort: controller.port, resolve: async () => ['127.0.0.1']})
    expect(controller.hosts).toEqual(['todo.local'])
    expect(health.warnings).toEqual([])
    expect(health.report.url).toBe('http://todo.local')
  })

  test('served, but the host does not resolve here: the hosts-file line, and a URL that works', async () => {
    const p = ingressProject()
    const fake = clusterWithIngress(['127.0.0.1'])
    const controller = await controllerFor('todo.local')
    const {health} = await verify(p, fake, {httpPort: controller.port, resolve: async () => []})
    expect(health.warnings[0]).toContain('add the line `127.0.0.1 todo.local` to /etc/hosts')
    expect(health.report.url).toBe('http://192.168.49.2:30080')
  })

  test('an address whose controller does not route the host (404): warns, with the NodePort URL', async () => {
    const p = ingressProject()
    const fake = clusterWithIngress(['127.0.0.1'])
    const controller = await controllerFor('another.host')
    const {health} = await verify(p, fake, {httpPort: controller.port, resolve: async () => ['127.0.0.1']})
    expect(health.warnings[0]).toMatch(
      /^http:\/\/todo\.local did not answer through the Ingress address 127\.0\.0\.1 \(it answered HTTP 404\)/,
    )
    expect(health.report.url).toBe('http://192.168.49.2:30080')
  })

  test('getThroughAddress sends the Ingress host, not the address', async () => {
    const controller = await controllerFor('todo.local')
    expect(
      await getThroughAddress({
        address: '127.0.0.1',
        port: controller.port,
        host: 'todo.local',
        path: '/',
        timeoutMs: 2000,
      }),
    ).toBe(200)
  })
})

describe('status shows the Ingress and its address', () => {
  test('an Ingress without an address says nothing serves it', async () => {
    const p = ingressProject()
    const fake = new FakeCluster()
    fake.kubeletFollowsHelm(p.resolved)
    await runUp(p.resolved, fake.connection, testSecrets(), UP_OPTIONS)
    fake.api.ingresses = [{name: INGRESS, className: 'nginx', hosts: ['todo.local'], addresses: []}]
    const report = await readStatus(p.resolved, fake.connection)
    expect(report.ingresses).toEqual([
      {name: INGRESS, className: 'nginx', hosts: ['todo.local'], address: null},
    ])
    expect(renderStatus(report)).toContain(
      'ingress    todo-chatbot: http://todo.local, no address: no ingress controller serves it (`minikube addons enable ingress`)',
    )
    fake.api.ingresses[0]!.addresses = ['192.168.49.2']
    expect(renderStatus(await readStatus(p.resolved, fake.connection))).toContain(
      'ingress    todo-chatbot: http://todo.local at 192.168.49.2',
    )
  })
})

describe('KubeClusterApi reads Ingresses over HTTP', () => {
  let server: FakeKubeApiServer
  let api: KubeClusterApi
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
    api = new KubeClusterApi(connectionTo(server))
    const labels = {'app.kubernetes.io/instance': 'todo-chatbot'}
    server.seed('ingresses', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {namespace: NAMESPACE, name: 'todo-chatbot', labels},
      spec: {ingressClassName: 'nginx', rules: [{host: 'todo.local'}]},
      status: {loadBalancer: {}},
    })
    server.seed('ingresses', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {namespace: NAMESPACE, name: 'served', labels},
      spec: {ingressClassName: 'nginx', rules: [{host: 'served.local'}]},
      status: {loadBalancer: {ingress: [{ip: '192.168.49.2'}]}},
    })
    server.seed('ingressclasses', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: {name: 'nginx'},
    })
  })
  afterAll(() => server.stop())

  test('lists the release’s Ingresses with their hosts and addresses (none until a controller serves them)', async () => {
    const listed = await api.listIngresses(NAMESPACE, 'app.kubernetes.io/instance=todo-chatbot')
    expect(listed.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      {name: 'served', className: 'nginx', hosts: ['served.local'], addresses: ['192.168.49.2']},
      {name: 'todo-chatbot', className: 'nginx', hosts: ['todo.local'], addresses: []},
    ])
  })

  test('tells whether an IngressClass exists', async () => {
    expect(await api.ingressClassExists('nginx')).toBe(true)
    expect(await api.ingressClassExists('traefik')).toBe(false)
  })
})
