import type {V1Deployment, V1EndpointSlice, V1Pod, V1ReplicaSet} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {trafficVerdict, type TrafficObjects} from '../../src/lib/kube/traffic/traffic-verdict.js'

const SERVICES = [{service: 'web-service', deployment: 'web'}]

const deployment = (generation = 2, observed = 2, replicas = 2): V1Deployment => ({
  metadata: {name: 'web', uid: 'd1', generation, annotations: {'deployment.kubernetes.io/revision': '2'}},
  spec: {replicas, selector: {}, template: {}},
  status: {observedGeneration: observed},
})
const replicaSet = (hash: string, revision: string): V1ReplicaSet => ({
  metadata: {
    name: `web-${hash}`,
    uid: `rs-${hash}`,
    labels: {'pod-template-hash': hash},
    annotations: {'deployment.kubernetes.io/revision': revision},
    ownerReferences: [{uid: 'd1', kind: 'Deployment', name: 'web', apiVersion: 'apps/v1'}],
  },
})
const pod = (hash: string, name: string, ready: boolean, deleting = false): V1Pod => ({
  metadata: {
    name: `web-${hash}-${name}`,
    labels: {'pod-template-hash': hash},
    ownerReferences: [{uid: `rs-${hash}`, kind: 'ReplicaSet', name: `web-${hash}`, apiVersion: 'apps/v1'}],
    ...(deleting ? {deletionTimestamp: new Date()} : {}),
  },
  status: {conditions: [{type: 'Ready', status: ready ? 'True' : 'False'}]},
})
const slice = (endpoints: {pod: string; ready?: boolean}[]): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: {name: 'web-service-abcde', labels: {'kubernetes.io/service-name': 'web-service'}},
  endpoints: endpoints.map((e, i) => ({
    addresses: [`10.244.0.${i + 2}`],
    conditions: e.ready === undefined ? {} : {ready: e.ready},
    targetRef: {kind: 'Pod', name: e.pod},
  })),
})

function objects(pods: V1Pod[], endpoints: {pod: string; ready?: boolean}[]): TrafficObjects {
  return {
    deployments: [deployment()],
    replicaSets: [replicaSet('old', '1'), replicaSet('new', '2')],
    pods,
    endpointSlices: [slice(endpoints)],
  }
}

describe('trafficVerdict', () => {
  it('is served when every ready endpoint is a pod of the new ReplicaSet and no old pod is ready', () => {
    const verdict = trafficVerdict(
      objects(
        [pod('new', 'a', true), pod('new', 'b', true), pod('old', 'x', true, true)],
        [
          {pod: 'web-new-a', ready: true},
          {pod: 'web-new-b', ready: true},
          {pod: 'web-old-x', ready: false},
        ],
      ),
      SERVICES,
    )
    expect(verdict.status).toBe('served')
    expect(verdict.services[0]).toMatchObject({newPods: ['web-new-a', 'web-new-b'], oldPods: []})
  })

  it('counts an endpoint whose ready condition is unset as ready (the API says so)', () => {
    const verdict = trafficVerdict(
      objects([pod('new', 'a', true), pod('old', 'x', true, true)], [{pod: 'web-new-a'}, {pod: 'web-old-x'}]),
      SERVICES,
    )
    expect(verdict.status).toBe('waiting')
    expect(verdict.services[0]?.oldPods).toEqual(['web-old-x'])
  })

  it('waits for an old pod that is Ready and not terminating, even before the slice lists it', () => {
    const verdict = trafficVerdict(
      objects([pod('new', 'a', true), pod('old', 'x', true)], [{pod: 'web-new-a', ready: true}]),
      SERVICES,
    )
    expect(verdict.status).toBe('waiting')
    expect(verdict.services[0]?.waitingFor).toBe('web-old-x to stop receiving traffic')
  })

  it('never takes the old ReplicaSet for the new one before the controller saw the new spec', () => {
    const stale = objects([pod('old', 'x', true)], [{pod: 'web-old-x', ready: true}])
    stale.deployments = [deployment(3, 2)]
    expect(trafficVerdict(stale, SERVICES).services[0]?.waitingFor).toContain('to see the new spec')
  })

  it('waits for a first ready endpoint; a Deployment scaled to 0 needs none', () => {
    expect(trafficVerdict(objects([pod('new', 'a', false)], []), SERVICES).status).toBe('waiting')
    const scaledDown = objects([], [])
    scaledDown.deployments = [deployment(2, 2, 0)]
    expect(trafficVerdict(scaledDown, SERVICES).status).toBe('served')
  })
})
