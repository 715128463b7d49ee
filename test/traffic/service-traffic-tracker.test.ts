import {afterEach, describe, expect, it} from 'vitest'

import {
  ServiceTrafficTracker,
  type TrafficRequest,
} from '../../src/lib/kube/traffic/service-traffic-tracker.js'
import type {ServiceTraffic} from '../../src/lib/kube/traffic/traffic-verdict.js'
import {ReplayApiServer, connectionFor, type ReplayOptions} from '../support/replay-api-server.js'

// test/fixtures/k8s/traffic-switch: `up` of a changed page on the rig (see its README). The new
// ReplicaSet 7f9cdb58cb replaces 7b6dc755f9; the frontend Service's EndpointSlice lists the new pods
// alone from t=12119; the backend did not change.
const SERVICES = [
  {service: 'todo-frontend-service', deployment: 'todo-frontend'},
  {service: 'todo-backend-service', deployment: 'todo-backend'},
]
const SWITCHED_AT = 12_119

const servers: ReplayApiServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function track(options: ReplayOptions, request: Partial<TrafficRequest> = {}) {
  const server = await ReplayApiServer.start('traffic-switch', options)
  servers.push(server)
  const progress: ServiceTraffic[][] = []
  const tracker = new ServiceTrafficTracker(connectionFor(server), {
    retry: {initialDelayMs: 20, maxDelayMs: 100},
  })
  const outcome = await tracker.track({
    namespace: server.namespace,
    labelSelector: 'app.kubernetes.io/instance=trf-app',
    services: SERVICES,
    timeoutMs: 10_000,
    ...request,
    onProgress: (services) => progress.push(services),
  })
  return {server, outcome, progress}
}

describe('ServiceTrafficTracker over a recorded rolling update', () => {
  it('waits until the EndpointSlice lists pods of the new ReplicaSet alone', async () => {
    // Started as the rollout starts: the new spec (generation 16) is applied, not yet observed.
    const {server, outcome, progress} = await track({startAt: 8560})
    expect(outcome).toMatchObject({
      status: 'served',
      services: [
        {
          service: 'todo-frontend-service',
          newPods: ['todo-frontend-7f9cdb58cb-cn7rm', 'todo-frontend-7f9cdb58cb-z725t'],
          oldPods: [],
          served: true,
        },
        {service: 'todo-backend-service', newPods: ['todo-backend-6659c75997-l2m24'], served: true},
      ],
    })
    expect(server.now()).toBeGreaterThanOrEqual(SWITCHED_AT)
    // On the way: an old pod still Ready in the slice while the second new pod started.
    const frontend = progress.map((services) => services[0])
    expect(frontend.some((s) => s?.oldPods.includes('todo-frontend-7b6dc755f9-7cgjf'))).toBe(true)
  })

  it('keeps the time of the switch when the rollout is judged later', async () => {
    let rolledOut!: () => void
    let judgedAt = 0
    const startAfter = new Promise<void>((resolve) => {
      rolledOut = () => {
        judgedAt = Date.now()
        resolve()
      }
    })
    const tracking = track({startAt: 8560}, {startAfter})
    while (servers[0] === undefined) await new Promise((resolve) => setTimeout(resolve, 10))
    await servers[0].reached(SWITCHED_AT + 1500)
    rolledOut()
    const {outcome} = await tracking
    expect(outcome.status).toBe('served')
    // Seen at t=12119 (75 ms of real time at speed 20 before the judgement), not at the judgement.
    if (outcome.status === 'served') expect(outcome.servedSince).toBeLessThan(judgedAt - 40)
  })

  it('on timeout, names the old pod that still receives traffic', async () => {
    // The clock stops at t=11000: one new pod Ready, the old 7b6dc755f9-7cgjf still Ready in the slice.
    const {outcome} = await track({startAt: 8560, until: 11_000}, {timeoutMs: 300})
    expect(outcome.status).toBe('timed-out')
    expect(outcome.services[0]).toMatchObject({
      service: 'todo-frontend-service',
      newPods: ['todo-frontend-7f9cdb58cb-cn7rm'],
      oldPods: ['todo-frontend-7b6dc755f9-7cgjf'],
      served: false,
    })
    expect(outcome.services[1]?.served).toBe(true)
  })
})
