import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {CoreV1Event, V1Pod} from '@kubernetes/client-node'
import {describe, expect, test} from 'vitest'

import {buildDiagnosis, renderDiagnosis} from '../../src/lib/kube/rollout/diagnosis.js'

const FIXTURES = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'k8s',
  'registry-pull',
)

interface Scenario {
  pod: V1Pod
  events: CoreV1Event[]
  errImagePullState: {reason: string; message: string}
}

function scenario(name: string): Scenario {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Scenario
}

/** The diagnosis as the tracker builds it for the pod's waiting state (or the ErrImagePull one). */
function diagnose(name: string, state: 'back-off' | 'err-image-pull' = 'back-off') {
  const s = scenario(name)
  const waiting =
    state === 'back-off' ? s.pod.status?.containerStatuses?.[0]?.state?.waiting : s.errImagePullState
  return buildDiagnosis({
    namespace: s.pod.metadata?.namespace ?? '',
    deployment: 'image-never-pull',
    pod: s.pod,
    container: 'web',
    reason: waiting?.reason ?? '',
    message: waiting?.message ?? '',
    events: s.events,
    now: new Date('2026-11-21T20:40:00Z'),
  })
}

describe('diagnosis of a registry image the nodes cannot pull (constructed from recorded shapes)', () => {
  test('ImagePullBackOff of a tag the registry lacks: the registry, the tag, the kubelet message, push it', () => {
    const d = diagnose('not-found')
    expect(d.reason).toBe('ImagePullBackOff')
    expect(d.pull).toMatchObject({
      registry: 'localhost:5000',
      image: 'localhost:5000/team/fx-web:c-0123456789ab',
      tag: 'c-0123456789ab',
      cause: 'tag-not-found',
    })
    expect(d.pull?.kubeletMessage).toMatch(/^Failed to pull image .*: not found$/)
    expect(d.fix).toBe(
      'The registry localhost:5000 has no tag c-0123456789ab for localhost:5000/team/fx-web:c-0123456789ab: it was never pushed there or was deleted; run `todo-deploy up` to push it (or roll back to a revision whose tag is still there).',
    )
    const lines = renderDiagnosis(d)
    expect(lines).toContain('  Registry: localhost:5000, tag c-0123456789ab (tag-not-found)')
    expect(lines.some((line) => line.startsWith('  Kubelet: Failed to pull image'))).toBe(true)
  })

  test('ErrImagePull, 401 from the registry, and no pull Secret on the pods: set registry.pullSecret', () => {
    const d = diagnose('unauthorized', 'err-image-pull')
    expect(d.pull).toMatchObject({registry: 'registry.example.com', cause: 'unauthorized'})
    expect(d.pull?.kubeletMessage).toBe(d.message)
    expect(d.fix).toContain('the pods name no pull Secret: set registry.pullSecret')
    expect(d.fix).toContain('docker login registry.example.com')
  })

  test('connection refused from the nodes: the registry is not reachable from them, whatever this machine sees', () => {
    const d = diagnose('unreachable')
    expect(d.pull).toMatchObject({registry: 'localhost:5000', cause: 'unreachable'})
    expect(d.fix).toMatch(/^The cluster's nodes cannot reach the registry localhost:5000: /)
  })

  test('an image without a registry host keeps the general pull fix, and no pull section', () => {
    const s = scenario('not-found')
    const d = buildDiagnosis({
      namespace: 'ns',
      deployment: 'web',
      pod: {...s.pod, spec: {...s.pod.spec!, containers: [{name: 'web', image: 'fx-web:v1'}]}},
      container: 'web',
      reason: 'ErrImagePull',
      message: 'rpc error: code = NotFound desc = not found',
      events: [],
      now: new Date(),
    })
    expect(d.pull).toBeUndefined()
    expect(d.fix).toContain('minikube image load fx-web:v1')
  })
})
