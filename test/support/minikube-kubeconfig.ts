import {writeFileSync} from 'node:fs'
import path from 'node:path'

/**
 * Writes `<dir>/kubeconfig` with one context named `minikube` (so `connect()` takes it for a minikube
 * cluster) whose API server address nothing answers: for tests that wire adapters without calling it.
 */
export function writeMinikubeKubeconfig(dir: string): string {
  const kubeconfig = path.join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
      'users: [{name: u, user: {token: fake-token}}]',
      'contexts: [{name: minikube, context: {cluster: c, user: u}}]',
      'current-context: minikube',
      '',
    ].join('\n'),
  )
  return kubeconfig
}
