import type {V1Pod} from '@kubernetes/client-node'
import {afterEach, describe, expect, it} from 'vitest'

import {ExitCode, InterruptedError, PrerequisiteError} from '../../src/lib/errors.js'
import {podReady} from '../../src/lib/kube/rollout/pod-state.js'
import {KubeWorkloadSource, type WorkloadSnapshot} from '../../src/lib/kube/workload-source.js'
import {
  connectionFor,
  ReplayApiServer,
  type KubeObject,
  type ReplayOptions,
} from '../support/replay-api-server.js'

const SELECTOR = 'app.kubernetes.io/instance=fx'
const RETRY = {attempts: 2, initialDelayMs: 20, maxDelayMs: 50}

/** The release's Service, and one of another release in the same namespace (the selector must leave it out). */
const SERVICES: KubeObject[] = [
  {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: {name: 'healthy-rollout', labels: {app: 'healthy-rollout', 'app.kubernetes.io/instance': 'fx'}},
    spec: {
      type: 'NodePort',
      selector: {app: 'healthy-rollout'},
      ports: [{port: 80, targetPort: 8080, nodePort: 30080}],
    },
  },
  {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: {name: 'other-app', labels: {'app.kubernetes.io/instance': 'other'}},
    spec: {type: 'ClusterIP', ports: [{port: 5432}]},
  },
]

const servers: ReplayApiServer[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function replay(
  options: ReplayOptions,
): Promise<{server: ReplayApiServer; source: KubeWorkloadSource}> {
  const server = await ReplayApiServer.start('healthy-rollout', {services: SERVICES, ...options})
  servers.push(server)
  return {server, source: new KubeWorkloadSource(connectionFor(server), RETRY)}
}

function readyPods(snapshot: WorkloadSnapshot): number {
  return snapshot.pods.filter((pod: V1Pod) => podReady(pod)).length
}

describe('KubeWorkloadSource through the real client-node against a recorded rollout', () => {
  it('snapshot lists the Deployments, Pods and Services the selector matches', async () => {
    // At t=3000 the Deployment and both pods exist; the pods are not running yet.
    const {server, source} = await replay({startAt: 3000, until: 3000})
    const snapshot = await source.snapshot(server.namespace, SELECTOR)
    expect(snapshot.deployments.map((d) => d.metadata?.name)).toEqual(['healthy-rollout'])
    expect(snapshot.pods.map((p) => p.metadata?.name).sort()).toEqual([
      'healthy-rollout-5d8ffc89b7-g5tfb',
      'healthy-rollout-5d8ffc89b7-ztfmf',
    ])
    expect(readyPods(snapshot)).toBe(0)
    expect(snapshot.services.map((s) => [s.metadata?.name, s.spec?.ports?.[0]?.nodePort])).toEqual([
      ['healthy-rollout', 30080],
    ])
    expect(server.requests.map((r) => `${r.path}?${r.query.labelSelector}`).sort()).toEqual([
      `/api/v1/namespaces/${server.namespace}/pods?${SELECTOR}`,
      `/api/v1/namespaces/${server.namespace}/services?${SELECTOR}`,
      `/apis/apps/v1/namespaces/${server.namespace}/deployments?${SELECTOR}`,
    ])
  })

  it('watch reports the pods becoming ready, and stops (closing its watches) once onChange returns true', async () => {
    // From t=5000: both pods run, not ready; they turn ready at t=5597 and t=5635. Played in real time: at
    // the default 20x the three lists and watches had 30 ms to get in first, which a busy machine misses.
    const {server, source} = await replay({startAt: 5000, speed: 1})
    const seen: number[] = []
    const final = await source.watch(server.namespace, SELECTOR, (snapshot) => {
      seen.push(readyPods(snapshot))
      return readyPods(snapshot) === 2
    })

    expect(seen[0]).toBe(0)
    expect(seen).toContain(1)
    expect(seen.at(-1)).toBe(2)
    expect(readyPods(final)).toBe(2)
    expect(final.services.map((s) => s.metadata?.name)).toEqual(['healthy-rollout'])
    expect(server.now()).toBeGreaterThanOrEqual(5635)
    const watchRequests = server.requests.filter((r) => r.query.watch === 'true')
    expect(watchRequests.map((r) => r.path.split('/').at(-1)).sort()).toEqual([
      'deployments',
      'pods',
      'services',
    ])
    // The Deployment changes again at t=5640 and t=5644: a watch still running would report them.
    const calls = seen.length
    await server.reached(6000)
    expect(seen).toHaveLength(calls)
  })

  it('an aborted watch rejects with InterruptedError', async () => {
    const {server, source} = await replay({startAt: 3000, until: 3000})
    const controller = new AbortController()
    let changes = 0
    const watching = source.watch(
      server.namespace,
      SELECTOR,
      () => {
        changes++
        setTimeout(() => controller.abort(), 5)
      },
      controller.signal,
    )
    await expect(watching).rejects.toBeInstanceOf(InterruptedError)
    expect(changes).toBe(1)
  })

  it('an unreachable API server is a prerequisite error (exit 3) naming the server', async () => {
    const source = new KubeWorkloadSource(connectionFor({url: 'http://127.0.0.1:9'}), RETRY)
    const error = await source.snapshot('todo-app-dev', SELECTOR).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).exitCode).toBe(ExitCode.Prerequisite)
    expect((error as PrerequisiteError).message).toContain(
      'cannot reach the Kubernetes API at http://127.0.0.1:9',
    )
  })
})
