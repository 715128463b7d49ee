import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, describe, expect, test} from 'vitest'

import {CachedClusterTarget} from '../../src/lib/cluster/cached-cluster-target.js'
import type {ClusterNodes, NodeReader} from '../../src/lib/cluster/cluster-nodes.js'
import type {FrontendUrlRequest} from '../../src/lib/cluster/cluster-target.js'
import {CallLog, FakeClusterTarget, FakeImageEngine} from '../support/fake-connection.js'

const NODES: ClusterNodes = {
  nodes: [{name: 'minikube', uid: 'node-uid-1', bootId: 'boot-1', ready: true, images: []}],
}

/** minikube's `service --url`: the port of the Service as it is now. */
class LiveServiceCluster extends FakeClusterTarget {
  liveNodePort = 31001
  asked = 0

  override async frontendUrl(request: FrontendUrlRequest): Promise<string | null> {
    this.asked++
    return `http://192.168.49.2:${request.nodePort ?? this.liveNodePort}`
  }
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

function cached(): {inner: LiveServiceCluster; cluster: CachedClusterTarget} {
  const log = new CallLog()
  const inner = new LiveServiceCluster(log, new FakeImageEngine(log))
  const nodes: NodeReader = {read: async () => structuredClone(NODES)}
  const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-url-cache-'))
  dirs.push(dir)
  return {inner, cluster: new CachedClusterTarget(inner, nodes, path.join(dir, 'minikube.json'))}
}

describe('the frontend URL, cached per cluster', () => {
  test('a node port the cluster picked is asked again: after down and up the Service has another one', async () => {
    const {inner, cluster} = cached()
    const request = {service: 'todo-frontend-service', namespace: 'todo-app-dev'}
    expect(await cluster.frontendUrl(request)).toBe('http://192.168.49.2:31001')
    inner.liveNodePort = 32336
    expect(await cluster.frontendUrl(request)).toBe('http://192.168.49.2:32336')
  })

  test('a fixed node port is a fact: asked of the tool once', async () => {
    const {inner, cluster} = cached()
    const request = {service: 'todo-frontend-service', namespace: 'todo-app-dev', nodePort: 30080}
    expect(await cluster.frontendUrl(request)).toBe('http://192.168.49.2:30080')
    expect(await cluster.frontendUrl(request)).toBe('http://192.168.49.2:30080')
    expect(inner.asked).toBe(1)
  })
})
