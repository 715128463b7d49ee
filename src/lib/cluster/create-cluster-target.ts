import type {ProcessRunner} from '../process/runner.js'
import type {DetectedCluster} from './cluster-kind.js'
import type {ClusterTarget} from './cluster-target.js'
import {DockerDesktopCluster} from './docker-desktop-cluster.js'
import {MinikubeCluster, type MinikubeTimeouts} from './minikube-cluster.js'
import {K3dCluster, KindCluster} from './node-container-cluster.js'
import type {PublishedAddresses} from './published-address.js'
import {RemoteCluster} from './remote-cluster.js'

/** The adapter for a detected cluster; the lifecycle sees only ClusterTarget. */
export function createClusterTarget(
  detected: DetectedCluster,
  runner: ProcessRunner,
  options: {timeouts?: Partial<MinikubeTimeouts>; addresses?: PublishedAddresses} = {},
): ClusterTarget {
  switch (detected.kind) {
    case 'minikube':
      return new MinikubeCluster(runner, {profile: detected.name, timeouts: options.timeouts})
    case 'kind':
      return new KindCluster(runner, {name: detected.name, timeouts: options.timeouts})
    case 'k3d':
      return new K3dCluster(runner, {name: detected.name, timeouts: options.timeouts})
    case 'docker-desktop':
      return new DockerDesktopCluster(runner, {timeoutMs: options.timeouts?.commandMs})
    case 'remote':
      return new RemoteCluster(detected.name, options.addresses)
  }
}
