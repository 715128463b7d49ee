import {DeployError, InterruptedError} from '../errors.js'
import type {ClusterApi, NamespaceState} from '../kube/kube-client.js'
import {NamespaceTerminatingError} from '../kube/namespace-termination.js'
import {interruptiblePause} from '../interruptible-pause.js'

/** How often a Terminating namespace is read again: one GET and five LISTs, a few times a second at most. */
export const NAMESPACE_POLL_MS = 500

export interface NamespaceWait {
  /** How long the namespace may take to go (the command's --timeout). */
  timeoutMs: number
  signal?: AbortSignal
  /** One progress line per read: "namespace todo terminating: 3 objects left, 4 s". */
  report: (line: string) => void
}

/**
 * Waits until a deleted namespace is gone: the namespace controller removes its objects, then its
 * finalizers let it go (a few seconds; for ever when a finalizer's controller is gone). Until then the
 * API server refuses anything new in it, so `down --purge` returns only once it is gone and `up` waits
 * for it before creating it again. Reads time with Date.now() (fake timers drive it in tests).
 * On timeout: exit 5 naming what holds it.
 */
export async function awaitNamespaceGone(
  api: ClusterApi,
  namespace: string,
  wait: NamespaceWait,
): Promise<{waitedMs: number}> {
  const started = Date.now()
  for (;;) {
    if (wait.signal?.aborted) throw new InterruptedError('interrupted by the user')
    const state = await api.readNamespace(namespace)
    const waitedMs = Date.now() - started
    if (state === null) return {waitedMs}
    const left = await objectsLeft(api, namespace, state)
    wait.report(
      `namespace ${namespace} terminating: ${left.count} object${left.count === 1 ? '' : 's'} left, ${Math.round(waitedMs / 1000)} s`,
    )
    if (waitedMs >= wait.timeoutMs) throw stillTerminating(namespace, state, left.names, waitedMs)
    await interruptiblePause(
      Math.min(NAMESPACE_POLL_MS, wait.timeoutMs - waitedMs),
      wait.signal,
      `namespace ${namespace} to go`,
    )
  }
}

/**
 * The namespace, ready for new content: created when missing; when it is still being deleted (a
 * `down --purge` just before), first waited for until it is gone, with a progress line. `created` is
 * true when this call created it.
 */
export async function ensureNamespaceReady(
  api: ClusterApi,
  namespace: string,
  wait: NamespaceWait,
): Promise<{created: boolean; waitedMs: number}> {
  const started = Date.now()
  for (;;) {
    try {
      const {created} = await api.ensureNamespace(namespace)
      return {created, waitedMs: Date.now() - started}
    } catch (error) {
      if (!(error instanceof NamespaceTerminatingError)) throw error
      wait.report(`namespace ${namespace} is being deleted: waiting until it is gone to create it again`)
      const spent = Date.now() - started
      await awaitNamespaceGone(api, namespace, {...wait, timeoutMs: Math.max(0, wait.timeoutMs - spent)})
    }
  }
}

/**
 * Waits while the namespace is being deleted (at once when it is not): before `up` and `rollback` read the
 * release, which goes with the namespace.
 */
export async function awaitNamespaceSettled(
  api: ClusterApi,
  namespace: string,
  wait: NamespaceWait,
): Promise<{waitedMs: number}> {
  const state = await api.readNamespace(namespace)
  if (state === null || !state.terminating) return {waitedMs: 0}
  wait.report(`namespace ${namespace} is being deleted: waiting until it is gone`)
  return awaitNamespaceGone(api, namespace, wait)
}

/** "roles.rbac.authorization.k8s.io has 1 resource instances" in the controller's NamespaceContentRemaining. */
const REMAINING = /(\S+) has (\d+) resource instances/g

/**
 * What is left: the kinds the CLI lists, by name; the namespace controller's count of every kind when it
 * says more (a Role, a Lease, a custom resource with a finalizer).
 */
async function objectsLeft(
  api: ClusterApi,
  namespace: string,
  state: NamespaceState,
): Promise<{count: number; names: string[]}> {
  const objects = await api.listNamespaceObjects(namespace)
  const names = Object.entries(objects).flatMap(([kind, list]) =>
    (list as string[]).map((name) => `${kind}/${name}`),
  )
  const remaining = state.holding
    .filter((line) => line.startsWith('NamespaceContentRemaining:'))
    .flatMap((line) => [...line.matchAll(REMAINING)].map((match) => Number(match[2])))
    .reduce((sum, count) => sum + count, 0)
  return {count: Math.max(names.length, remaining), names}
}

function stillTerminating(
  namespace: string,
  state: NamespaceState,
  objects: string[],
  waitedMs: number,
): DeployError {
  const shown = objects.slice(0, 10)
  return new DeployError(
    `namespace ${namespace} was still terminating after ${Math.round(waitedMs / 1000)} s`,
    {
      where: `namespace ${namespace}`,
      details: [
        `finalizers: ${state.finalizers.length === 0 ? 'none' : state.finalizers.join(', ')}`,
        ...state.holding,
        `objects left: ${shown.length === 0 ? 'none the CLI lists (deployments, services, configmaps, secrets, pods)' : `${shown.join(', ')}${objects.length > shown.length ? `, and ${objects.length - shown.length} more` : ''}`}`,
      ],
      fix: `see what holds it with \`kubectl get namespace ${namespace} -o yaml\` (status.conditions) and \`kubectl api-resources --verbs=list --namespaced -o name | xargs -n1 kubectl get -n ${namespace} --ignore-not-found\`; an object whose finalizer's controller is gone stays until you remove the finalizer (\`kubectl patch <kind>/<name> -n ${namespace} --type=merge -p '{"metadata":{"finalizers":null}}'\`); or wait longer with --timeout`,
    },
  )
}
