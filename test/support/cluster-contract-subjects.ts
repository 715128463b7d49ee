import {RolloutTracker} from '../../src/lib/kube/rollout/rollout-tracker.js'
import {KubeWorkloadSource} from '../../src/lib/kube/workload-source.js'
import type {
  RolloutContractSubject,
  RolloutScenario,
  WorkloadContractSubject,
} from '../contracts/cluster-ports.contract.js'
import {recordedObjectsAt} from '../kube-rollout/recorded-objects.js'
import {CallLog, FakeRolloutWaiter, FakeWorkloadSource, type ScriptedRollout} from './fake-connection.js'
import {ReplayApiServer, connectionFor, type ReplayOptions} from './replay-api-server.js'

/** Where each scenario is picked up, as `up` meets it right after helm returns (see rollout-tracker.test.ts). */
const REPLAYS: Record<RolloutScenario, {recording: string; deployment: string; options: ReplayOptions}> = {
  // At 5x: the pods are running but not ready for 200 ms, which a busy machine does not miss.
  'healthy-rollout': {
    recording: 'healthy-rollout',
    deployment: 'healthy-rollout',
    options: {startAt: 2583, speed: 5},
  },
  // The clock stops before the kubelet drops the crashed container (t=48019) and its previous log.
  'crash-loop': {
    recording: 'crash-loop',
    deployment: 'crash-loop',
    options: {startAt: 2513, until: 48_000, speed: 40},
  },
  'image-never-pull': {
    recording: 'image-never-pull',
    deployment: 'image-never-pull',
    options: {startAt: 2508},
  },
  // Frozen before the pods are ready: the rollout never ends by itself.
  'never-finishes': {
    recording: 'healthy-rollout',
    deployment: 'healthy-rollout',
    options: {startAt: 2583, until: 2600},
  },
}

const FAKE_SCRIPTS: Record<RolloutScenario, ScriptedRollout> = {
  'healthy-rollout': {status: 'rolled-out'},
  'crash-loop': {status: 'failed', reason: 'CrashLoopBackOff'},
  'image-never-pull': {status: 'failed', reason: 'ErrImageNeverPull'},
  'never-finishes': {status: 'hang'},
}

/** RolloutTracker (what the connection's RolloutWaiter runs) over a replayed recording. */
export async function realRolloutSubject(scenario: RolloutScenario): Promise<RolloutContractSubject> {
  const replay = REPLAYS[scenario]
  const server = await ReplayApiServer.start(replay.recording, replay.options)
  const tracker = new RolloutTracker(connectionFor(server), {
    retry: {initialDelayMs: 20, maxDelayMs: 100},
    now: () => new Date('2026-11-21T21:00:00Z'),
  })
  return {
    waiter: {wait: (request) => tracker.track(request)},
    request: {
      namespace: server.namespace,
      labelSelector: 'app.kubernetes.io/instance=fx',
      deployments: [replay.deployment],
      timeoutMs: 10_000,
    },
    close: () => server.close(),
  }
}

export async function fakeRolloutSubject(scenario: RolloutScenario): Promise<RolloutContractSubject> {
  const waiter = new FakeRolloutWaiter(new CallLog())
  waiter.script.push(FAKE_SCRIPTS[scenario])
  return {
    waiter,
    request: {
      namespace: 'todo-app-dev',
      labelSelector: 'app.kubernetes.io/instance=todo-chatbot',
      deployments: ['todo-backend', 'todo-frontend'],
      timeoutMs: 10_000,
    },
    close: async () => {},
  }
}

/** A moment of the healthy rollout: one pod ready, one not yet. */
const SNAPSHOT_AT = 5000

export async function realWorkloadSubject(): Promise<WorkloadContractSubject> {
  const server = await ReplayApiServer.start('healthy-rollout', {startAt: SNAPSHOT_AT, until: SNAPSHOT_AT})
  const recorded = recordedObjectsAt('healthy-rollout', SNAPSHOT_AT)
  return {
    source: new KubeWorkloadSource(connectionFor(server)),
    namespace: server.namespace,
    labelSelector: 'app.kubernetes.io/instance=fx',
    expected: {deployments: recorded.deployments, pods: recorded.pods, services: []},
    close: () => server.close(),
  }
}

export async function fakeWorkloadSubject(): Promise<WorkloadContractSubject> {
  const recorded = recordedObjectsAt('healthy-rollout', SNAPSHOT_AT)
  const source = new FakeWorkloadSource(new CallLog())
  source.publish({deployments: recorded.deployments, pods: recorded.pods})
  return {
    source,
    namespace: 'fx-healthy-rollout',
    labelSelector: 'app.kubernetes.io/instance=fx',
    expected: {deployments: recorded.deployments, pods: recorded.pods, services: []},
    close: async () => {},
  }
}
