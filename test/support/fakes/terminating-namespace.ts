import {ApiException} from '@kubernetes/client-node'

import type {TodoDeployError} from '../../../src/lib/errors.js'
import {helmFailure} from '../../../src/lib/helm/helm-errors.js'
import {toKubeError} from '../../../src/lib/kube/kube-errors.js'

/** The fake cluster's API server, as the errors name it. */
const TARGET = {server: 'https://192.168.49.2:8443', context: 'minikube'}

/**
 * Refuses new content in a namespace that is being deleted, as the API server does; every fake that
 * creates something in a namespace (the lock's Lease, the state ConfigMap, the Secrets, helm's release)
 * asks it first. FakeClusterApi answers, from its namespaces and the clock.
 */
export interface NamespaceGuard {
  /** Throws what the real adapter throws for `POST <resource>` into a Terminating namespace. */
  refuseNewContent(namespace: string, object: {resource: string; group?: string; name: string}): void
  /** Throws what the real helm adapter throws for `helm upgrade --install` into a Terminating namespace. */
  refuseHelmRelease(namespace: string, release: string, operation: string): void
}

/**
 * The adapter's error for the API server's 403: the Status body as recorded on a real cluster
 * (test/fixtures/k8s/namespace-terminating/lease-create-403.json), mapped by the real `toKubeError`.
 */
export function terminatingNamespaceRefusal(
  namespace: string,
  object: {resource: string; group?: string; name: string},
): unknown {
  const qualified = object.group === undefined ? object.resource : `${object.resource}.${object.group}`
  const body = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${qualified} "${object.name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
    reason: 'Forbidden',
    details: {
      name: object.name,
      ...(object.group === undefined ? {} : {group: object.group}),
      kind: object.resource,
      causes: [
        {
          reason: 'NamespaceTerminating',
          message: `namespace ${namespace} is being terminated`,
          field: 'metadata.namespace',
        },
      ],
    },
    code: 403,
  }
  return toKubeError(
    new ApiException(403, 'Forbidden', body, {}),
    {verb: 'create', resource: object.resource, name: object.name, namespace},
    TARGET,
  )
}

/** helm's own failure for the same refusal (test/fixtures/k8s/namespace-terminating/helm-install-stderr.txt), mapped by the real `helmFailure`. */
export function terminatingNamespaceHelmRefusal(
  namespace: string,
  release: string,
  operation: string,
): TodoDeployError {
  return helmFailure(
    {
      exitCode: 1,
      stdout: '',
      stderr: `Error: create: failed to create: secrets "sh.helm.release.v1.${release}.v1" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated\n`,
    },
    {operation, release, namespace, kind: 'change', masked: []},
  )
}
