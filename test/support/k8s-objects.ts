import type {V1Deployment, V1Pod, V1Service} from '@kubernetes/client-node'

import type {ResolvedConfig} from '../../src/lib/config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../../src/lib/config/schema.js'
import type {WorkloadSnapshot} from '../../src/lib/kube/workload-source.js'

/** How a pod of `podObject` is doing. */
export type PodCondition =
  | 'ready'
  | 'not-ready'
  /** Waiting in CrashLoopBackOff after `restarts` exits with `exitCode`. */
  | {crashLoop: {restarts: number; exitCode: number}}

const POD_CREATED = '2026-11-21T20:00:00Z'

/** A pod of `deployment` (labels app + app.kubernetes.io/instance) running one container with `image`. */
export function podObject(options: {
  name: string
  deployment: string
  container: string
  image: string
  release?: string
  condition?: PodCondition
}): V1Pod {
  const condition = options.condition ?? 'ready'
  const ready = condition === 'ready'
  const crash = typeof condition === 'object' ? condition.crashLoop : undefined
  return {
    metadata: {
      name: options.name,
      namespace: 'todo-app-dev',
      creationTimestamp: new Date(POD_CREATED),
      labels: {app: options.deployment, 'app.kubernetes.io/instance': options.release ?? 'todo-chatbot'},
    },
    spec: {containers: [{name: options.container, image: options.image}]},
    status: {
      phase: 'Running',
      conditions: [
        {type: 'PodScheduled', status: 'True'},
        {type: 'Ready', status: ready ? 'True' : 'False'},
      ],
      containerStatuses: [
        {
          name: options.container,
          image: options.image,
          imageID: '',
          ready,
          restartCount: crash?.restarts ?? 0,
          state: crash
            ? {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: `back-off 40s restarting failed container=${options.container}`,
                },
              }
            : {running: {startedAt: new Date(POD_CREATED)}},
          lastState: crash ? {terminated: {exitCode: crash.exitCode, reason: 'Error'}} : {},
        },
      ],
    },
  }
}

/** A Deployment running `image`; rolled out when `ready` equals `replicas`. */
export function deploymentObject(options: {
  name: string
  container: string
  image: string
  replicas?: number
  ready?: number
  release?: string
}): V1Deployment {
  const replicas = options.replicas ?? 1
  const ready = options.ready ?? replicas
  return {
    metadata: {
      name: options.name,
      namespace: 'todo-app-dev',
      generation: 1,
      labels: {app: options.name, 'app.kubernetes.io/instance': options.release ?? 'todo-chatbot'},
    },
    spec: {
      replicas,
      selector: {matchLabels: {app: options.name}},
      template: {spec: {containers: [{name: options.container, image: options.image}]}},
    },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: ready,
      availableReplicas: ready,
    },
  }
}

/** A Service as the chart makes it. */
export function serviceObject(options: {
  name: string
  type: string
  port: number
  targetPort: number
  nodePort?: number
}): V1Service {
  return {
    metadata: {
      name: options.name,
      namespace: 'todo-app-dev',
      labels: {'app.kubernetes.io/instance': 'todo-chatbot'},
    },
    spec: {
      type: options.type,
      ports: [{port: options.port, targetPort: options.targetPort, nodePort: options.nodePort}],
    },
  }
}

/**
 * What the cluster shows once the release runs these content tags: each enabled service's Deployment
 * rolled out on `<repository>:<tag>`, one pod each in `condition`, and both Services. A test publishes
 * it on the FakeWorkloadSource after `up` or `rollback`, as the kubelet would make it so.
 */
export function runningRelease(
  resolved: ResolvedConfig,
  tags: Partial<Record<ServiceName, string>>,
  condition: PodCondition = 'ready',
): WorkloadSnapshot {
  const snapshot: WorkloadSnapshot = {deployments: [], pods: [], services: []}
  for (const name of SERVICE_NAMES) {
    const service = resolved.config.services[name]
    if (!service.enabled) continue
    const image = `${service.image.repository}:${tags[name] ?? 'missing'}`
    const ready = condition === 'ready'
    snapshot.deployments.push(
      deploymentObject({name: service.deployment, container: service.container, image, ready: ready ? 1 : 0}),
    )
    snapshot.pods.push(
      podObject({
        name: `${service.deployment}-5d8ffc89b7-${name === 'frontend' ? 'g5tfb' : 'ztfmf'}`,
        deployment: service.deployment,
        container: service.container,
        image,
        condition,
      }),
    )
    snapshot.services.push(
      serviceObject({
        name: service.service.name,
        type: service.service.type,
        port: service.service.port,
        targetPort: service.port,
        nodePort: service.service.nodePort ?? undefined,
      }),
    )
  }
  return snapshot
}
