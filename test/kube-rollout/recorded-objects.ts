import type {RolloutObjects} from '../../src/lib/kube/rollout/rollout-verdict.js'
import {loadScenario, type RecordedEvent} from '../support/replay-api-server.js'

const RESOURCES = {
  deployments: 'deployments',
  replicasets: 'replicaSets',
  pods: 'pods',
  events: 'events',
} as const satisfies Partial<Record<RecordedEvent['resource'], keyof RolloutObjects>>

/**
 * The release's objects as a watch would mirror them at scenario time t: the recorded watch events of
 * test/fixtures/k8s/<scenario> folded up to t (ADDED and MODIFIED replace, DELETED removes).
 */
export function recordedObjectsAt(scenario: string, t: number): RolloutObjects {
  const mirrors = new Map<keyof RolloutObjects, Map<string, unknown>>(
    Object.values(RESOURCES).map((name) => [name, new Map()]),
  )
  for (const event of loadScenario(scenario).events) {
    if (event.t > t) break
    if (event.type === 'BOOKMARK' || !(event.resource in RESOURCES)) continue
    const mirror = mirrors.get(RESOURCES[event.resource as keyof typeof RESOURCES])!
    const name = event.object.metadata.name ?? ''
    if (event.type === 'DELETED') mirror.delete(name)
    else mirror.set(name, event.object)
  }
  const items = <K extends keyof RolloutObjects>(name: K): RolloutObjects[K] =>
    [...mirrors.get(name)!.values()] as RolloutObjects[K]
  return {
    deployments: items('deployments'),
    replicaSets: items('replicaSets'),
    pods: items('pods'),
    events: items('events'),
  }
}
