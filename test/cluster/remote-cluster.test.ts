import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import {createClusterTarget} from '../../src/lib/cluster/create-cluster-target.js'
import {KubePublishedAddresses} from '../../src/lib/cluster/published-address.js'
import {RemoteCluster} from '../../src/lib/cluster/remote-cluster.js'
import {ExitCode} from '../../src/lib/errors.js'
import type {ProcessRunner} from '../../src/lib/process/runner.js'
import {FakeKubeApiServer, connectionTo} from '../support/kube-api-server.js'

/** A remote cluster runs no program of ours: any call is a failure. */
const noPrograms: ProcessRunner = {
  run: (file) => Promise.reject(new Error(`${file} was run for a remote cluster`)),
}

describe('RemoteCluster', () => {
  const cluster = createClusterTarget({kind: 'remote', name: 'gke_project_dev'}, noPrograms)

  test('is what a remote context gets, named after the context, and needs no tool to be "running"', async () => {
    expect(cluster).toBeInstanceOf(RemoteCluster)
    expect(cluster.kind).toBe('remote')
    expect(cluster.describe()).toBe('remote cluster (context "gke_project_dev")')
    await expect(cluster.ensureRunning()).resolves.toBeUndefined()
    await expect(cluster.builderEnv()).resolves.toBeNull()
  })

  test('nothing is loaded into or removed from its nodes: images come from the registry', async () => {
    await expect(cluster.imagePresent('todo-frontend:c-1')).resolves.toBe(false)
    await expect(cluster.removeImage('todo-frontend:c-1')).resolves.toBe(false)
    await expect(cluster.loadImage('todo-frontend:c-1')).rejects.toMatchObject({
      exitCode: ExitCode.Unexpected,
      message:
        'todo-frontend:c-1 cannot be loaded into a remote cluster: its nodes pull images from registry.url',
    })
  })

  test('without a published address, no URL (null), never a command line where a URL belongs', async () => {
    await expect(
      cluster.frontendUrl({service: 'todo-frontend-service', namespace: 'dev'}),
    ).resolves.toBeNull()
  })
})

describe('RemoteCluster.frontendUrl from what the API server says (client-node over HTTP)', () => {
  let server: FakeKubeApiServer
  let remote: RemoteCluster
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
    remote = new RemoteCluster('gke_project_dev', new KubePublishedAddresses(connectionTo(server)))
  })
  afterAll(() => server.stop())

  const request = {service: 'todo-frontend-service', namespace: 'dev', ingressHost: 'todo.example.com'}
  const frontendService = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
    server.seed('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: 'todo-frontend-service', namespace: 'dev'},
      spec: {ports: [{port: 80, targetPort: 3000}], ...spec},
      status,
    })
  const ingress = (status: Record<string, unknown>) =>
    server.seed('ingresses', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {name: 'todo', namespace: 'dev'},
      spec: {rules: [{host: 'todo.example.com'}]},
      status,
    })

  test('a LoadBalancer Service still waiting for its address: no URL yet', async () => {
    frontendService({type: 'LoadBalancer', ports: [{port: 3000}]})
    await expect(remote.frontendUrl({...request, ingressHost: undefined})).resolves.toBeNull()
  })

  test('a LoadBalancer address on another port: that address and port', async () => {
    frontendService(
      {type: 'LoadBalancer', ports: [{port: 3000}]},
      {loadBalancer: {ingress: [{hostname: 'lb-2.example.net'}]}},
    )
    await expect(remote.frontendUrl({...request, ingressHost: undefined})).resolves.toBe(
      'http://lb-2.example.net:3000',
    )
  })

  test('a LoadBalancer Service with an address: that address', async () => {
    frontendService({type: 'LoadBalancer'}, {loadBalancer: {ingress: [{ip: '203.0.113.7'}]}})
    await expect(remote.frontendUrl({...request, ingressHost: undefined})).resolves.toBe('http://203.0.113.7')
  })

  test('an Ingress for the host without an address yet is not used; once it has one, its host is the URL', async () => {
    frontendService({type: 'ClusterIP'})
    ingress({loadBalancer: {}})
    await expect(remote.frontendUrl(request)).resolves.toBeNull()
    ingress({loadBalancer: {ingress: [{hostname: 'lb-1.example.net'}]}})
    await expect(remote.frontendUrl(request)).resolves.toBe('http://todo.example.com')
  })
})
