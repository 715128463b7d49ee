import {KubeConfig} from '@kubernetes/client-node'

import type {DetectedCluster} from '../../src/lib/cluster/cluster-kind.js'
import type {PreflightProbes, RegistryProbe} from '../../src/lib/doctor/preflight.js'
import {PrerequisiteError} from '../../src/lib/errors.js'
import type {ClusterApi, NodePortHolder} from '../../src/lib/kube/kube-client.js'
import type {LoadedKubeConfig} from '../../src/lib/kube/kube-config.js'
import {registryApiBase, type RegistryAddress} from '../../src/lib/registry/registry-address.js'

/** Probes of a machine where every prerequisite is met; records what doctor asked for. */
export class PassingPreflight implements PreflightProbes {
  readonly contextsAsked: (string | undefined)[] = []
  readonly clustersAsked: DetectedCluster[] = []

  async dockerEngine(): Promise<{version: string; address: string}> {
    return {version: '27.5.1 (API 1.47)', address: 'unix:///var/run/docker.sock'}
  }

  async helm(): Promise<{version: string}> {
    return {version: 'v3.17.2'}
  }

  kubeContext(context: string | undefined): LoadedKubeConfig {
    this.contextsAsked.push(context)
    return {kc: new KubeConfig(), context: context ?? 'minikube', server: 'https://192.168.49.2:8443'}
  }

  async clusterTool(detected: DetectedCluster): Promise<{version: string; detail: string}> {
    this.clustersAsked.push(detected)
    return {version: 'v1.35.0', detail: `${detected.kind} "${detected.name}" is running`}
  }

  async clusterVersion(): Promise<string> {
    return 'v1.32.0'
  }

  async registry(address: RegistryAddress): Promise<RegistryProbe> {
    return {
      access: {url: registryApiBase(address), login: 'credentials'},
      credentialSource: 'docker-credential-pass',
    }
  }

  /** Services of other namespaces holding nodePorts, as `doctor` reads them. */
  readonly nodePortServices: NodePortHolder[] = []

  clusterApi(): Pick<ClusterApi, 'nodePortHolders'> {
    return {
      nodePortHolders: async (nodePorts) =>
        this.nodePortServices.filter((holder) => nodePorts.includes(holder.nodePort)),
    }
  }
}

/** The same machine without helm: what the real HelmCli reports when the binary is not on PATH. */
export class MissingHelmPreflight extends PassingPreflight {
  override async helm(): Promise<{version: string}> {
    throw new PrerequisiteError('helm is not installed (not found on PATH)', {
      fix: 'install helm 3.8+ or 4.x: https://helm.sh/docs/intro/install/',
    })
  }
}
