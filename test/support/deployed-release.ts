import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {parse} from 'yaml'

import {helmBinary} from './helm-binaries.js'
import {defaultChartDir, parseManifests} from './helm-template.js'
import type {FakeKubeApiServer, KubeObject} from './kube-api-server.js'
import {projectRoot} from './run-command.js'

const RELEASE = 'todo-chatbot'
const NAMESPACE = 'todo-app-dev'
const TAG = 'c-0123456789ab'
const NODE_FIXTURE = path.join(projectRoot, 'test', 'fixtures', 'real-cluster', 'node-status-images.json')

/**
 * Puts a healthy, deployed `todo-chatbot` into the fake API server as a real cluster would hold it after
 * one `todo-deploy up`: the objects the real helm renders from the bundled chart (Deployments rolled out,
 * their pods running and ready, the Services with a node port), Helm's release Secret (what `helm status`
 * and `helm history` read), the lifecycle record and the cluster's one Ready node (recorded on a real
 * minikube: its UID and boot ID key the cached cluster facts). Returns the release and namespace.
 */
export function seedDeployedRelease(api: FakeKubeApiServer): {release: string; namespace: string} {
  const now = new Date().toISOString()
  const manifest = execFileSync(
    helmBinary('v3'),
    [
      'template',
      RELEASE,
      defaultChartDir,
      '-n',
      NAMESPACE,
      '--set-string',
      `frontend.image.tag=${TAG},backend.image.tag=${TAG}`,
    ],
    {encoding: 'utf8'},
  )
  api.seed('namespaces', {metadata: {name: NAMESPACE}})
  api.seed('nodes', readyNode())
  for (const object of parseManifests(manifest) as KubeObject[]) {
    if (object.kind === 'Deployment') seedRolledOut(api, object, now)
    else if (object.kind === 'Service') api.seed('services', withNodePort(object))
    else if (object.kind === 'ConfigMap') api.seed('configmaps', object)
  }

  const chart = parse(readFileSync(path.join(defaultChartDir, 'Chart.yaml'), 'utf8')) as Record<
    string,
    unknown
  >
  const release = {
    name: RELEASE,
    namespace: NAMESPACE,
    version: 1,
    info: {
      first_deployed: now,
      last_deployed: now,
      deleted: '',
      description: 'Install complete',
      status: 'deployed',
    },
    chart: {metadata: chart, templates: [], values: {}},
    config: {frontend: {image: {tag: TAG}}, backend: {image: {tag: TAG}}},
    manifest,
  }
  // Helm's Secret driver: the release JSON, gzipped, base64-encoded, stored as the Secret's `release` key.
  const encoded = gzipSync(JSON.stringify(release)).toString('base64')
  api.seed('secrets', {
    metadata: {
      name: `sh.helm.release.v1.${RELEASE}.v1`,
      namespace: NAMESPACE,
      labels: {name: RELEASE, owner: 'helm', status: 'deployed', version: '1'},
    },
    type: 'helm.sh/release.v1',
    data: {release: Buffer.from(encoded).toString('base64')},
  })

  api.seed('configmaps', {
    metadata: {
      name: `todo-deploy-state-${RELEASE}`,
      namespace: NAMESPACE,
      labels: {'app.kubernetes.io/managed-by': 'todo-deploy', 'app.kubernetes.io/instance': RELEASE},
    },
    data: {
      'record.json': JSON.stringify({
        operation: {
          id: 'bench-1',
          command: 'up',
          startedAt: now,
          endedAt: now,
          result: 'succeeded',
          phases: [],
          tags: {frontend: TAG, backend: TAG},
          revision: 1,
          state: 'Healthy',
        },
        history: [],
      }),
    },
  })
  return {release: RELEASE, namespace: NAMESPACE}
}

/** The one node of a recorded minikube, Ready, listing `images` (`docker.io/library/<ref>`) when given. */
export function readyNode(images?: string[]): KubeObject {
  const node = JSON.parse(readFileSync(NODE_FIXTURE, 'utf8')) as KubeObject & {
    status: Record<string, unknown>
  }
  node.status.conditions = [{type: 'Ready', status: 'True', reason: 'KubeletReady'}]
  if (images) node.status.images = images.map((ref) => ({names: [`docker.io/library/${ref}`], sizeBytes: 1}))
  return node
}

/** A Deployment as its controller leaves it once rolled out (generation 1 observed, every replica available). */
export function rolledOut(deployment: KubeObject): KubeObject {
  const replicas = (deployment.spec as {replicas?: number}).replicas ?? 1
  return {
    ...deployment,
    metadata: {...deployment.metadata, generation: 1},
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      conditions: [
        {type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable'},
        {type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable'},
      ],
    },
  }
}

function withNodePort(service: KubeObject): KubeObject {
  const spec = service.spec as {type?: string; ports?: {nodePort?: number}[]}
  if (spec.type === 'NodePort') for (const port of spec.ports ?? []) port.nodePort ??= 30080
  return service
}

/** The Deployment as the controller leaves it once rolled out, and one running, ready pod per replica. */
function seedRolledOut(api: FakeKubeApiServer, deployment: KubeObject, now: string): void {
  const spec = deployment.spec as {
    replicas?: number
    template: {
      metadata: {labels: Record<string, string>}
      spec: {containers: {name: string; image: string}[]}
    }
  }
  const replicas = spec.replicas ?? 1
  api.seed('deployments', rolledOut(deployment))
  for (let index = 0; index < replicas; index++) {
    api.seed('pods', {
      metadata: {
        name: `${deployment.metadata.name}-6d8f9c7b5-${'abcde'[index] ?? index}x2k9`,
        namespace: deployment.metadata.namespace,
        labels: {...spec.template.metadata.labels, 'pod-template-hash': '6d8f9c7b5'},
        creationTimestamp: now,
      },
      spec: spec.template.spec,
      status: {
        phase: 'Running',
        startTime: now,
        conditions: [
          {type: 'Ready', status: 'True'},
          {type: 'ContainersReady', status: 'True'},
        ],
        containerStatuses: spec.template.spec.containers.map((container) => ({
          name: container.name,
          image: container.image,
          ready: true,
          started: true,
          restartCount: 0,
          state: {running: {startedAt: now}},
        })),
      },
    })
  }
}
