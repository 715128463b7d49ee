import type {ClusterTools} from './cluster-tools.js'
import type {E2eProject} from './e2e-project.js'
import type {TodoDeployCli} from './todo-deploy-cli.js'

/**
 * afterAll of every flow: `down --yes --purge` as a user would, then, as a last resort for a CLI that
 * failed, `helm uninstall` and `kubectl delete namespace`. Throws only when the namespace survives
 * both, i.e. when the run really leaves something on the cluster.
 */
export async function removeRelease(
  project: E2eProject,
  cli: TodoDeployCli,
  tools: ClusterTools,
): Promise<void> {
  try {
    await cli.run(['down', '--yes', '--purge', '--json'])
    if ((await tools.helmStatus(project.namespace, project.release)) !== null) {
      await tools.helm(['uninstall', project.release, '-n', project.namespace, '--wait', '--timeout', '2m'])
    }
    const deleted = await tools.kubectl([
      'delete',
      'namespace',
      project.namespace,
      '--ignore-not-found',
      '--wait=true',
      '--timeout=3m',
    ])
    if (deleted.exitCode !== 0) {
      throw new Error(
        `could not delete namespace ${project.namespace} (context ${tools.context}): ${deleted.stderr.trim()}`,
      )
    }
  } finally {
    project.remove()
  }
}
