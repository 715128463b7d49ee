import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {describe, expect, onTestFinished, test} from 'vitest'

import {CachedClusterTarget} from '../../src/lib/cluster/cached-cluster-target.js'
import {MinikubeCluster} from '../../src/lib/cluster/minikube-cluster.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import {FakeCluster, testSecrets} from '../support/fake-connection.js'
import {ApiNode, MinikubeNode} from '../support/fake-minikube.js'
import {tempProject, UP_OPTIONS} from '../support/lifecycle-fixtures.js'

const PROFILE = 'todo'

describe('up: the cluster target alone checks which images the cluster has', () => {
  test('one `minikube image ls` per image when the cluster has it or the image was just built (after its load), two when an older image is loaded', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const node = new MinikubeNode(PROFILE, fake.engine)
    const connection = {...fake.connection, cluster: new MinikubeCluster(node, {profile: PROFILE})}

    const cold = await runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
    expect(cold.images.map((image) => image.loaded)).toEqual([true, true])
    expect(node.count('image load')).toBe(2)
    // Freshly built content tags are new to the cluster: no look before the load, one check after.
    expect(node.commandLines.map((line) => line.split(' ').slice(3, 5).join(' '))).toEqual(
      expect.arrayContaining(['image load', 'image ls']),
    )
    expect(node.count('image ls')).toBe(2)

    node.commandLines.length = 0
    const again = await runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
    expect(again.images.map((image) => [image.loaded, image.loadSkipReason])).toEqual([
      [false, `already in minikube profile "${PROFILE}"`],
      [false, `already in minikube profile "${PROFILE}"`],
    ])
    expect(node.count('image load')).toBe(0)
    expect(node.count('image ls')).toBe(2)

    // The cluster lost the images (minikube delete + start); the engine still has them: not built, so
    // the cluster is asked before each load, and again after it.
    node.images.clear()
    node.commandLines.length = 0
    const reloaded = await runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
    expect(reloaded.images.map((image) => [image.built, image.loaded])).toEqual([
      [false, true],
      [false, true],
    ])
    expect(node.count('image load')).toBe(2)
    expect(node.count('image ls')).toBe(4)
  })
})

function cachedMinikube(options: Parameters<typeof tempProject>[0] = {}) {
  const p = tempProject(options)
  const fake = new FakeCluster()
  const node = new MinikubeNode(PROFILE, fake.engine)
  const api = new ApiNode(node)
  const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-facts-'))
  onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
  const cacheFile = path.join(dir, 'clusters', 'minikube.json')
  const cluster = new CachedClusterTarget(new MinikubeCluster(node, {profile: PROFILE}), api, cacheFile)
  const connection = {...fake.connection, cluster, nodes: api}
  const up = () => runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
  return {node, api, cacheFile, up}
}

describe('up: the frontend URL cache', () => {
  test('an automatic nodePort is asked again on every up: the Service created again after a down has another', async () => {
    const {node, api, up} = cachedMinikube({frontend: ['service: {nodePort: null}']})
    const first = await up()
    api.kubeletRefresh()
    node.serviceUrl = 'http://192.168.49.2:31234'

    const again = await up()

    expect(again.url).not.toBe(first.url)
    expect(again.url).toBe('http://192.168.49.2:31234')
    expect(node.count('service')).toBe(2)
  })
})

describe('up: nothing changed, nothing asked of minikube', () => {
  test('a no-change up runs no minikube subprocess: facts from the cache, images listed on the node', async () => {
    const {node, api, up} = cachedMinikube()
    const cold = await up()
    expect(cold.images.map((image) => image.loaded)).toEqual([true, true])
    expect(node.count('status')).toBe(1)
    expect(node.count('profile list')).toBe(1)
    api.kubeletRefresh()

    node.commandLines.length = 0
    const again = await up()
    expect(node.commandLines).toEqual([])
    expect(again.state).toBe('Healthy')
    expect(again.url).toBe(cold.url)
    expect(again.images.map((image) => image.loadSkipReason)).toEqual([
      'listed on node minikube, and revision 1 runs it',
      'listed on node minikube, and revision 1 runs it',
    ])
    expect(again.phases.find((phase) => phase.phase === 'load')?.state).toBe('skipped')
  })

  test('a tag the kubelet does not list yet is asked of `minikube image ls` (one call), not loaded again', async () => {
    const {node, up} = cachedMinikube()
    await up()

    node.commandLines.length = 0
    const again = await up()
    expect(node.commandLines.map((line) => line.split(' ').slice(3, 5).join(' '))).toEqual([
      'image ls',
      'image ls',
    ])
    expect(again.images.map((image) => image.loadSkipReason)).toEqual([
      `already in minikube profile "${PROFILE}"`,
      `already in minikube profile "${PROFILE}"`,
    ])
  })

  test.each([
    ['a recreated node (another UID)', {uid: '0a1b2c3d-0000-4000-8000-000000000001'}],
    ['a restarted node (another boot ID)', {bootId: 'e5f6a7b8-0000-4000-8000-000000000002'}],
  ])(
    '%s makes the cached facts stale: minikube is asked again, and the cache learns the new node',
    async (_, change) => {
      const {node, api, cacheFile, up} = cachedMinikube()
      await up()
      api.kubeletRefresh()
      Object.assign(api.status, change)

      node.commandLines.length = 0
      await up()
      expect(node.count('status')).toBe(1)
      expect(node.count('profile list')).toBe(1)
      expect(node.count('image')).toBe(0)
      const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as {nodes: string}
      expect(cached.nodes).toBe(`${api.status.uid}/${api.status.bootId}`)

      node.commandLines.length = 0
      await up()
      expect(node.commandLines).toEqual([])
    },
  )

  test("a node that is not Ready gets minikube's own check, whatever the cache says", async () => {
    const {node, api, up} = cachedMinikube()
    await up()
    api.kubeletRefresh()
    api.status.ready = false

    node.commandLines.length = 0
    await up()
    expect(node.count('status')).toBe(1)
    expect(node.count('profile list')).toBe(0)
  })
})
