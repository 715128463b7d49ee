import {BadInputError} from '../errors.js'
import type {ClusterKind} from './cluster-kind.js'
import type {NodeRuntime} from './cluster-target.js'

/** `cluster.imageLoad` in todo-deploy.yaml. */
export type ConfiguredImageLoad = 'auto' | 'load' | 'docker-env' | 'none'
/**
 * How built images reach the cluster: `docker-env` builds straight into the node's Docker daemon
 * (nothing to send), `load` builds locally then sends the image, `none` sends nothing (the cluster
 * already sees the local engine, or pulls from a registry).
 */
export type ImageLoadStrategy = 'docker-env' | 'load' | 'none'

export interface ImageLoadStrategyInput {
  configured: ConfiguredImageLoad
  clusterKind: ClusterKind
  runtime: NodeRuntime
}

export function chooseImageLoadStrategy(input: ImageLoadStrategyInput): ImageLoadStrategy {
  const {configured, clusterKind, runtime} = input
  const dockerEnvWorks =
    clusterKind === 'minikube' && runtime.containerRuntime === 'docker' && runtime.nodeCount === 1
  switch (configured) {
    case 'none':
    case 'load':
      return configured
    case 'docker-env':
      if (!dockerEnvWorks) throw dockerEnvRefused(clusterKind, runtime)
      return 'docker-env'
    case 'auto':
      if (clusterKind === 'docker-desktop') return 'none'
      return dockerEnvWorks ? 'docker-env' : 'load'
  }
}

function dockerEnvRefused(clusterKind: ClusterKind, runtime: NodeRuntime): BadInputError {
  const why =
    clusterKind !== 'minikube'
      ? `docker-env is a minikube feature; a ${clusterKind} cluster has no Docker daemon to build into`
      : runtime.containerRuntime !== 'docker'
        ? `the minikube node runs the "${runtime.containerRuntime}" container runtime, and docker-env needs "docker": ` +
          'images built there would be invisible to Kubernetes (skaffold #5143)'
        : `minikube refuses docker-env on a cluster of ${runtime.nodeCount} nodes: the image would exist on one node only`
  return new BadInputError(`cluster.imageLoad is "docker-env", which cannot work here: ${why}`, {
    where: 'cluster.imageLoad in todo-deploy.yaml',
    fix:
      'set cluster.imageLoad to "auto" or "load"' +
      (clusterKind === 'minikube' && runtime.containerRuntime !== 'docker'
        ? ', or recreate the profile with `--container-runtime=docker`'
        : ''),
  })
}
