import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {V1Node} from '@kubernetes/client-node'
import {describe, expect, onTestFinished, test} from 'vitest'

import {CachedClusterTarget} from '../../src/lib/cluster/cached-cluster-target.js'
import {nodeStatusOf, type ClusterNodes, type NodeReader} from '../../src/lib/cluster/cluster-nodes.js'
import {MinikubeCluster} from '../../src/lib/cluster/minikube-cluster.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import type {ProcessRunner, RunResult} from '../../src/lib/process/runner.js'
import {fixture} from '../cluster/support/scripted-runner.js'
import {FakeCluster, testSecrets, type FakeImageEngine} from '../support/fake-connection.js'
import {tempProject, UP_OPTIONS} from '../support/lifecycle-fixtures.js'

const PROFILE = 'todo'

/**
 * The `minikube` binary of a one-node containerd profile, enough for `up`: its image list follows
 * what was loaded from the local engine, as `minikube image ls` does. Records every command line.
 */
class MinikubeNode implements ProcessRunner {
  readonly commandLines: string[] = []
  readonly images = new Map<string, string>()

  constructor(private readonly engine: FakeImageEngine) {}

  count(command: string): number {
    return this.commandLines.filter((line) => line.startsWith(`minikube -p ${PROFILE} ${command}`)).length
  }

  async run(file: string, args: readonly string[]): Promise<RunResult> {
    const line = [file, ...args].join(' ')
    this.commandLines.push(line)
    const command = args.slice(2)
    const ok = (stdout: string): RunResult => ({exitCode: 0, stdout, stderr: ''})
    switch (command.slice(0, 2).join(' ')) {
      case 'status -o':
        return ok(fixture('minikube/status-running.json'))
      case 'profile list':
        return ok(fixture('minikube/profile-list-containerd.json'))
      case 'image ls':
        return ok(
          JSON.stringify(
            [...this.images].map(([ref, id]) => ({
              id: id.replace(/^sha256:/, ''),
              repoTags: [`docker.io/library/${ref}`],
            })),
          ),
        )
      case 'image load': {
        const ref = command[2] ?? ''
        const local = this.engine.images.get(ref)
        if (!local)
          return {exitCode: 1, stdout: '', stderr: `X Exiting due to GUEST_IMAGE_LOAD: ${ref} not found`}
        this.images.set(ref, local.id)
        return ok('')
      }
      case 'service todo-frontend-service':
        return ok(fixture('minikube/service-url-linux.stdout'))
      default:
        throw new Error(`unexpected command: ${line}`)
    }
  }
}

describe('up: the cluster target alone checks which images the cluster has', () => {
  test('one `minikube image ls` per image when the cluster has it, two (before and after) when it is loaded', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const node = new MinikubeNode(fake.engine)
    const connection = {...fake.connection, cluster: new MinikubeCluster(node, {profile: PROFILE})}

    const cold = await runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
    expect(cold.images.map((image) => image.loaded)).toEqual([true, true])
    expect(node.count('image load')).toBe(2)
    expect(node.count('image ls')).toBe(4)

    node.commandLines.length = 0
    const again = await runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
    expect(again.images.map((image) => [image.loaded, image.loadSkipReason])).toEqual([
      [false, `already in minikube profile "${PROFILE}"`],
      [false, `already in minikube profile "${PROFILE}"`],
    ])
    expect(node.count('image load')).toBe(0)
    expect(node.count('image ls')).toBe(2)
  })
})

/**
 * The node as the API server shows it (recorded on a real minikube): the kubelet lists what the node
 * has once it refreshes, which a test does with `kubeletRefresh()`.
 */
class ApiNode implements NodeReader {
  readonly recorded = nodeStatusOf(
    JSON.parse(readFileSync('test/fixtures/real-cluster/node-status-images.json', 'utf8')) as V1Node,
  )
  status = {...this.recorded, ready: true}

  constructor(private readonly node: MinikubeNode) {}

  kubeletRefresh(): void {
    this.status.images = [
      ...this.recorded.images,
      ...[...this.node.images.keys()].map((ref) => `docker.io/library/${ref}`),
    ]
  }

  async read(): Promise<ClusterNodes | null> {
    return {nodes: [structuredClone(this.status)]}
  }
}

function cachedMinikube() {
  const p = tempProject()
  const fake = new FakeCluster()
  const node = new MinikubeNode(fake.engine)
  const api = new ApiNode(node)
  const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-facts-'))
  onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
  const cacheFile = path.join(dir, 'clusters', 'minikube.json')
  const cluster = new CachedClusterTarget(new MinikubeCluster(node, {profile: PROFILE}), api, cacheFile)
  const connection = {...fake.connection, cluster, nodes: api}
  const up = () => runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
  return {node, api, cacheFile, up}
}

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
      'listed on node minikube',
      'listed on node minikube',
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
