import path from 'node:path'

import {execa} from 'execa'
import which from 'which'

import {helmBinary, kubectlBinary} from '../../support/helm-binaries.js'

export interface ToolRun {
  exitCode: number | undefined
  stdout: string
  stderr: string
}

export interface PodIdentity {
  name: string
  uid: string
}

export interface HelmRevision {
  revision: number
  status: string
  description: string
}

interface K8sList<T> {
  items: T[]
}

interface K8sPod {
  metadata: {name: string; uid: string; deletionTimestamp?: string}
}

interface K8sDeployment {
  spec: {template: {spec: {containers: {name: string; image: string}[]}}}
}

const REQUEST_TIMEOUT = '20s'

/**
 * kubectl and helm against the cluster of the current kube context, always with that context named
 * explicitly, so a context switched mid-run cannot send the checks elsewhere. The same helm as the CLI
 * uses: the one on PATH, else the bundled 3.17 (whose folder then goes on the CLI's PATH too).
 */
export class ClusterTools {
  private constructor(
    readonly context: string,
    readonly kubectlPath: string,
    readonly helmPath: string,
  ) {}

  /** Finds the current context and proves the API server answers; throws (never skips) when it does not. */
  static async connect(): Promise<ClusterTools> {
    const kubectlPath = which.sync('kubectl', {nothrow: true}) ?? kubectlBinary('v3')
    const helmPath = which.sync('helm', {nothrow: true}) ?? helmBinary('v3')
    const current = await execa(kubectlPath, ['config', 'current-context'], {reject: false, timeout: 10_000})
    const context = current.stdout.trim()
    if (current.exitCode !== 0 || context === '') {
      throw new Error(
        `TODO_DEPLOY_E2E=1 but the kubeconfig has no current context (${current.stderr.trim() || 'kubectl printed nothing'}).\n` +
          'Start a cluster (e.g. `minikube start`) or unset TODO_DEPLOY_E2E to skip the e2e suite.',
      )
    }
    const ready = await execa(
      kubectlPath,
      ['--context', context, '--request-timeout=10s', 'get', '--raw', '/readyz'],
      {
        reject: false,
        timeout: 30_000,
      },
    )
    if (ready.exitCode !== 0) {
      throw new Error(
        `TODO_DEPLOY_E2E=1 but the cluster of kube context "${context}" is not reachable: ${ready.stderr.trim() || ready.stdout.trim()}\n` +
          'Start it (e.g. `minikube start`) or unset TODO_DEPLOY_E2E to skip the e2e suite.',
      )
    }
    return new ClusterTools(context, kubectlPath, helmPath)
  }

  /** PATH for the CLI so that it runs the same helm (and kubectl) as these checks. */
  cliPath(): string {
    return [path.dirname(this.helmPath), path.dirname(this.kubectlPath), process.env.PATH ?? ''].join(
      path.delimiter,
    )
  }

  async kubectl(args: string[]): Promise<ToolRun> {
    return this.exec(this.kubectlPath, [
      '--context',
      this.context,
      `--request-timeout=${REQUEST_TIMEOUT}`,
      ...args,
    ])
  }

  async helm(args: string[]): Promise<ToolRun> {
    return this.exec(this.helmPath, ['--kube-context', this.context, ...args])
  }

  /** `kubectl ... -o json`, parsed; throws with kubectl's stderr when it fails. */
  async kubectlJson<T>(args: string[]): Promise<T> {
    return parsed<T>(await this.kubectl([...args, '-o', 'json']), `kubectl ${args.join(' ')}`)
  }

  async helmJson<T>(args: string[]): Promise<T> {
    return parsed<T>(await this.helm([...args, '-o', 'json']), `helm ${args.join(' ')}`)
  }

  /** helm's stdout; throws with its stderr when it fails. */
  async helmText(args: string[]): Promise<string> {
    return succeeded(await this.helm(args), `helm ${args.join(' ')}`)
  }

  /** Running (not terminating) pods of one component of the release. */
  async pods(namespace: string, release: string, app: string): Promise<PodIdentity[]> {
    const list = await this.kubectlJson<K8sList<K8sPod>>([
      '-n',
      namespace,
      'get',
      'pods',
      '-l',
      `app=${app},app.kubernetes.io/instance=${release}`,
    ])
    return list.items
      .filter((pod) => pod.metadata.deletionTimestamp === undefined)
      .map((pod) => ({name: pod.metadata.name, uid: pod.metadata.uid}))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  /** The image the Deployment's pod template runs, e.g. `todo-e2e-frontend:abc123`. */
  async deploymentImage(namespace: string, deployment: string): Promise<string> {
    const object = await this.kubectlJson<K8sDeployment>(['-n', namespace, 'get', 'deployment', deployment])
    const image = object.spec.template.spec.containers[0]?.image
    if (image === undefined) throw new Error(`deployment ${namespace}/${deployment} has no container`)
    return image
  }

  async helmHistory(namespace: string, release: string): Promise<HelmRevision[]> {
    const rows = await this.helmJson<{revision: number; status: string; description: string}[]>([
      'history',
      release,
      '-n',
      namespace,
      '--max',
      '100',
    ])
    return rows.map(({revision, status, description}) => ({revision, status, description}))
  }

  /** helm's view of the release, or null when helm has no such release. */
  async helmStatus(
    namespace: string,
    release: string,
  ): Promise<{revision: number; status: string; description: string} | null> {
    const run = await this.helm(['status', release, '-n', namespace, '-o', 'json'])
    if (run.exitCode !== 0) {
      if (/not found/i.test(run.stderr)) return null
      throw new Error(`helm status ${release} failed: ${run.stderr.trim()}`)
    }
    const status = JSON.parse(run.stdout) as {version: number; info: {status: string; description: string}}
    return {revision: status.version, status: status.info.status, description: status.info.description}
  }

  private async exec(file: string, args: string[]): Promise<ToolRun> {
    const result = await execa(file, args, {reject: false, timeout: 120_000})
    return {exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr}
  }
}

function succeeded(run: ToolRun, what: string): string {
  if (run.exitCode !== 0) throw new Error(`${what} failed (exit ${run.exitCode}): ${run.stderr.trim()}`)
  return run.stdout
}

function parsed<T>(run: ToolRun, what: string): T {
  return JSON.parse(succeeded(run, what)) as T
}

/** Polls `check` until it returns a value other than undefined, or fails naming what it waited for. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: {timeoutMs: number; intervalMs?: number},
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500))
  }
}
