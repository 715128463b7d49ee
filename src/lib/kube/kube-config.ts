import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'

import {KubeConfig} from '@kubernetes/client-node'

import {PrerequisiteError} from '../errors.js'

export interface KubeConfigOptions {
  /** Kube context to use instead of the kubeconfig's current context (`--context`). */
  context?: string
  /** Path of the kubeconfig file; default: $KUBECONFIG (a path list), then ~/.kube/config. */
  kubeconfig?: string
  /** Environment and home folder to resolve the default from (tests pass their own). */
  env?: NodeJS.ProcessEnv
  home?: string
}

export interface LoadedKubeConfig {
  kc: KubeConfig
  context: string
  server: string
}

function kubeconfigPaths(options: KubeConfigOptions): {paths: string[]; origin: string} {
  if (options.kubeconfig !== undefined) return {paths: [options.kubeconfig], origin: options.kubeconfig}
  const env = options.env ?? process.env
  const fromEnv = (env.KUBECONFIG ?? '').split(path.delimiter).filter((entry) => entry !== '')
  if (fromEnv.length > 0) return {paths: fromEnv, origin: `KUBECONFIG=${env.KUBECONFIG}`}
  const file = path.join(options.home ?? homedir(), '.kube', 'config')
  return {paths: [file], origin: file}
}

/**
 * Reads the kubeconfig the way kubectl does, but fails with a clear message where client-node's
 * `loadFromDefault()` would silently target http://localhost:8080 (no kubeconfig at all).
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): LoadedKubeConfig {
  const {paths, origin} = kubeconfigPaths(options)
  const existing = paths.filter((file) => existsSync(file))
  if (existing.length === 0) {
    throw new PrerequisiteError(`no kubeconfig found at ${origin}`, {
      where: origin,
      fix: "start minikube (`minikube start` writes ~/.kube/config), or point KUBECONFIG at your cluster's kubeconfig",
    })
  }

  const kc = new KubeConfig()
  try {
    const [first, ...rest] = existing
    kc.loadFromFile(first as string)
    for (const file of rest) {
      const more = new KubeConfig()
      more.loadFromFile(file)
      // kubectl's merge rule: the first file that sets current-context wins.
      kc.mergeConfig(more, kc.currentContext !== undefined && kc.currentContext !== '')
    }
  } catch (error) {
    throw new PrerequisiteError(
      `cannot read the kubeconfig ${existing.join(path.delimiter)}: ${error instanceof Error ? error.message : String(error)}`,
      {
        where: existing.join(path.delimiter),
        fix: 'check that the file is valid kubeconfig YAML (`kubectl config view`)',
        cause: error,
      },
    )
  }

  const available = kc.getContexts().map((context) => context.name)
  const availableList =
    available.length === 0 ? 'it defines no contexts' : `available contexts: ${available.join(', ')}`
  const wanted = options.context ?? kc.getCurrentContext()
  if (wanted === undefined || wanted === null || wanted === '') {
    throw new PrerequisiteError(`the kubeconfig ${origin} has no current context`, {
      where: origin,
      details: [availableList],
      fix:
        available.length === 0
          ? 'start minikube (`minikube start`) to create a context, or point KUBECONFIG at a kubeconfig that has one'
          : `pick one with --context ${available[0]}, or make it the default: \`kubectl config use-context ${available[0]}\``,
    })
  }
  const context = kc.getContextObject(wanted)
  if (context === null) {
    throw new PrerequisiteError(`kube context "${wanted}" is not in the kubeconfig ${origin}`, {
      where: options.context === undefined ? `current-context in ${origin}` : '--context',
      details: [availableList],
      fix:
        available.length === 0
          ? 'start minikube (`minikube start`) to create a context'
          : `use one of the available contexts, e.g. --context ${available[0]}`,
    })
  }
  kc.setCurrentContext(wanted)
  const cluster = kc.getCluster(context.cluster)
  if (cluster === null || cluster.server === undefined || cluster.server === '') {
    throw new PrerequisiteError(
      `kube context "${wanted}" refers to cluster "${context.cluster}", which the kubeconfig ${origin} does not define`,
      {
        where: origin,
        fix: 'repair the kubeconfig (`kubectl config view`), or for minikube run `minikube update-context`',
      },
    )
  }
  return {kc, context: wanted, server: cluster.server}
}
