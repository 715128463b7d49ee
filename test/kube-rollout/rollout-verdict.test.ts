import {describe, expect, it} from 'vitest'

import {
  rolloutVerdict,
  stalledRollout,
  type RolloutExpectation,
  type RolloutProgress,
  type RolloutVerdict,
} from '../../src/lib/kube/rollout/rollout-verdict.js'
import {recordedObjectsAt} from './recorded-objects.js'

// The verdict is a pure function of the mirrored objects: judged here on the objects recorded on a real
// cluster (test/fixtures/k8s/<scenario>, the times are from each scenario's README), with no server.

const DEFAULT: RolloutExpectation = {crashLoopRestarts: 3}

interface Case {
  scenario: string
  t: number
  expectation?: Partial<RolloutExpectation>
  status: RolloutVerdict['status']
  /** The failure's reason, pod and container, when failed. */
  failure?: {reason: string; pod?: string; container?: string; message?: string; replicaSet?: string}
  /** The last progress line (the deployment judged last). */
  progress?: Partial<RolloutProgress>
}

const CASES: Case[] = [
  {
    scenario: 'healthy-rollout',
    t: 4000,
    status: 'progressing',
    progress: {desired: 2, ready: 0, state: 'ContainerCreating'},
  },
  {
    scenario: 'healthy-rollout',
    t: 5640, // the Deployment still reports 1 of 2 ready and available
    status: 'progressing',
    progress: {ready: 1, available: 1, rolledOut: false},
  },
  {
    scenario: 'healthy-rollout',
    t: 5644,
    status: 'rolled-out',
    progress: {ready: 2, available: 2, rolledOut: true, state: 'rolled out'},
  },
  {
    scenario: 'rolling-update',
    t: 10_904, // both new pods ready, the old ReplicaSet still has a replica
    status: 'progressing',
  },
  {scenario: 'rolling-update', t: 10_962, status: 'rolled-out'},
  {scenario: 'image-never-pull', t: 3000, status: 'progressing'},
  {
    scenario: 'image-never-pull',
    t: 3418,
    status: 'failed',
    failure: {
      reason: 'ErrImageNeverPull',
      pod: 'image-never-pull-96f55f4b7-9t6bv',
      container: 'web',
      message: 'Container image "fx-web:v9-never-loaded" is not present with pull policy of Never',
    },
  },
  // The image was loaded after the pod met ErrImageNeverPull: the pod waits for the kubelet's next try.
  {
    scenario: 'image-never-pull',
    t: 3418,
    expectation: {loadedImages: ['fx-web:v9-never-loaded']},
    status: 'progressing',
    progress: {ready: 0, rolledOut: false},
  },
  {
    scenario: 'image-never-pull',
    t: 3418,
    expectation: {loadedImages: ['fx-web:v1']},
    status: 'failed',
    failure: {reason: 'ErrImageNeverPull', container: 'web'},
  },
  // A crash loop is tolerated for a few restarts (a slow start can restart), then fails.
  {scenario: 'crash-loop', t: 47_000, status: 'progressing'},
  {
    scenario: 'crash-loop',
    t: 47_222,
    status: 'failed',
    failure: {reason: 'CrashLoopBackOff', pod: 'crash-loop-6cdbc74d56-shwvb', container: 'web'},
  },
  {
    scenario: 'crash-loop',
    t: 7140,
    expectation: {crashLoopRestarts: 1},
    status: 'failed',
    failure: {reason: 'CrashLoopBackOff', container: 'web'},
  },
  // The transient FailedMount warning of a fresh namespace is not fatal.
  {scenario: 'crash-loop', t: 4000, status: 'progressing'},
  {
    scenario: 'oom-killed',
    t: 6604,
    status: 'failed',
    failure: {reason: 'OOMKilled', container: 'web'},
  },
  {
    scenario: 'readiness-never-passes',
    t: 33_000,
    status: 'progressing',
    progress: {state: 'Running, not ready'},
  },
  {
    scenario: 'readiness-never-passes',
    t: 33_203,
    status: 'failed',
    failure: {
      reason: 'ProgressDeadlineExceeded',
      pod: 'readiness-never-passes-859c99b84d-6v2ld',
      container: 'web',
      message: 'ReplicaSet "readiness-never-passes-859c99b84d" has timed out progressing.',
      replicaSet: 'readiness-never-passes-859c99b84d',
    },
  },
  {
    scenario: 'unschedulable',
    t: 2743, // the pod is unschedulable from t=2739; the Deployment observes its spec at t=2741
    status: 'failed',
    failure: {reason: 'Unschedulable', pod: 'unschedulable-55cc9d8dcc-jnmhq'},
  },
  {
    scenario: 'missing-secret-key',
    t: 3468,
    status: 'failed',
    // containerStatuses are sorted by name (sidecar first), but the failure names the first container of the spec.
    failure: {
      reason: 'CreateContainerConfigError',
      container: 'web',
      message: "couldn't find key api-key in Secret fx-missing-secret-key/fx-secret",
    },
  },
  {
    scenario: 'invalid-image-name',
    t: 3285,
    status: 'failed',
    failure: {reason: 'InvalidImageName', container: 'web'},
  },
]

describe('rolloutVerdict on objects recorded on a real cluster', () => {
  it.each(CASES)('$scenario at t=$t: $status $failure.reason', (c) => {
    const verdict = rolloutVerdict(recordedObjectsAt(c.scenario, c.t), {...DEFAULT, ...c.expectation})
    expect(verdict.status).toBe(c.status)
    if (c.progress !== undefined) expect(verdict.progress.at(-1)).toMatchObject(c.progress)
    if (c.failure !== undefined) {
      if (verdict.status !== 'failed') throw new Error('unreachable')
      const {pod, ...failure} = verdict.failure
      expect({...failure, pod: pod?.metadata?.name}).toMatchObject(c.failure)
    }
  })

  it('reports what it rolled out: each deployment with its replicas, revision and images', () => {
    const verdict = rolloutVerdict(recordedObjectsAt('rolling-update', 10_962), DEFAULT)
    expect(verdict).toMatchObject({
      status: 'rolled-out',
      deployments: [{name: 'rolling-update', replicas: 2, revision: '2', images: ['fx-web:v2']}],
    })
  })

  it('waits for an expected deployment that does not exist yet, and for a release with none', () => {
    const objects = recordedObjectsAt('healthy-rollout', 5644)
    const missing = rolloutVerdict(objects, {...DEFAULT, deployments: ['healthy-rollout', 'todo-backend']})
    expect(missing.status).toBe('progressing')
    expect(missing.progress.map((p) => [p.deployment, p.state])).toEqual([
      ['healthy-rollout', 'rolled out'],
      ['todo-backend', 'waiting for the deployment to appear'],
    ])
    expect(rolloutVerdict(recordedObjectsAt('healthy-rollout', 0), DEFAULT)).toEqual({
      status: 'progressing',
      progress: [],
    })
  })

  it('waits while the controller has not seen the new spec, though the old pods are all ready', () => {
    // t=2760: generation 2 applied at t=2753, not yet observed; the v1 pods are still 2/2 ready.
    const verdict = rolloutVerdict(recordedObjectsAt('rolling-update', 2760), DEFAULT)
    expect(verdict).toMatchObject({
      status: 'progressing',
      progress: [{rolledOut: false, state: 'waiting for the deployment controller to see the new spec'}],
    })
  })
})

describe('rolloutVerdict fenced at the generation helm applied', () => {
  // t=2000: v1 is 2/2 available (generation 1): the state a watch started before helm holds while the
  // applied spec (generation 2, t=2753) is still on its way.
  const applied = {appliedGenerations: {'rolling-update': 2}}

  it('does not take the old, rolled-out spec for the rollout while the applied one has not arrived', () => {
    expect(rolloutVerdict(recordedObjectsAt('rolling-update', 2000), DEFAULT)).toMatchObject({
      status: 'rolled-out',
      deployments: [{revision: '1'}],
    })
    expect(rolloutVerdict(recordedObjectsAt('rolling-update', 2000), {...DEFAULT, ...applied})).toEqual({
      status: 'progressing',
      progress: [
        expect.objectContaining({
          deployment: 'rolling-update',
          desired: 2,
          rolledOut: false,
          state: 'waiting for the applied spec (generation 2) to reach the watch',
        }),
      ],
    })
  })

  it('judges the applied generation as usual once it is there', () => {
    expect(rolloutVerdict(recordedObjectsAt('rolling-update', 10_904), {...DEFAULT, ...applied}).status).toBe(
      'progressing',
    )
    expect(
      rolloutVerdict(recordedObjectsAt('rolling-update', 10_962), {...DEFAULT, ...applied}),
    ).toMatchObject({
      status: 'rolled-out',
      deployments: [{revision: '2', images: ['fx-web:v2']}],
    })
  })

  it('at the timeout, says the applied spec never reached the watch', () => {
    const failure = stalledRollout(recordedObjectsAt('rolling-update', 2000), {
      ...DEFAULT,
      ...applied,
      namespace: 'fx-rolling-update',
      labelSelector: 'app.kubernetes.io/instance=fx',
      timeoutMs: 20_000,
    })
    expect(failure).toEqual({
      deployment: 'rolling-update',
      reason: 'NotObserved',
      message: 'timed out waiting for the applied spec (generation 2) to reach the watch',
    })
  })
})

describe('stalledRollout: what the timeout reports', () => {
  const stalled = (scenario: string, t: number, deployments?: string[]) =>
    stalledRollout(recordedObjectsAt(scenario, t), {
      ...DEFAULT,
      deployments,
      namespace: `fx-${scenario}`,
      labelSelector: 'app.kubernetes.io/instance=fx',
      timeoutMs: 20_000,
    })

  it('names the failing readiness probe from the latest Unhealthy event', () => {
    const failure = stalled('readiness-never-passes', 20_000)
    expect(failure).toMatchObject({
      deployment: 'readiness-never-passes',
      container: 'web',
      reason: 'Unhealthy',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 404',
    })
    expect(failure.pod?.metadata?.name).toBe('readiness-never-passes-859c99b84d-6v2ld')
  })

  it("falls back to the container's waiting reason, then to what the rollout waits for", () => {
    expect(stalled('image-never-pull', 4000)).toMatchObject({reason: 'ErrImageNeverPull'})
    expect(stalled('healthy-rollout', 4000)).toMatchObject({
      reason: 'ContainerCreating',
    })
    expect(stalled('healthy-rollout', 2849)).toMatchObject({
      reason: 'NotReady',
      message: 'timed out after 20 s: the deployment controller to see the new spec',
    })
  })

  it('says which deployment never appeared, or that nothing matched the selector', () => {
    expect(stalled('healthy-rollout', 5644, ['healthy-rollout', 'todo-backend'])).toEqual({
      deployment: 'todo-backend',
      reason: 'NotFound',
      message: 'deployment todo-backend did not appear in namespace fx-healthy-rollout',
    })
    expect(stalled('healthy-rollout', 0)).toEqual({
      deployment: '',
      reason: 'NotFound',
      message: 'no deployment matches app.kubernetes.io/instance=fx in namespace fx-healthy-rollout',
    })
  })
})
