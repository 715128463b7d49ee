import {DeployError, PrerequisiteError} from '../errors.js'
import type {ProcessRunner, RunResult} from '../process/runner.js'
import type * as target from './cluster-target.js'
import {sameImageId} from './cluster-target.js'

/**
 * Docker Desktop's Kubernetes runs on the same engine the images are built in: an image the local
 * engine has is already visible to the cluster, so there is nothing to load, only to check.
 */
export class DockerDesktopCluster implements target.ClusterTarget {
  readonly kind = 'docker-desktop' as const

  constructor(
    private readonly runner: ProcessRunner,
    private readonly options: {timeoutMs?: number} = {},
  ) {}

  describe(): string {
    return 'Docker Desktop Kubernetes'
  }

  async version(): Promise<string> {
    const result = await this.docker(['version', '--format', '{{.Server.Version}}'])
    const version = result.stdout.trim()
    if (result.exitCode !== 0 || version.length === 0) throw this.engineUnreachable(result)
    return version
  }

  async ensureRunning(): Promise<void> {
    await this.version()
  }

  nodeRuntime(): Promise<target.NodeRuntime> {
    return Promise.resolve({containerRuntime: 'docker', nodeCount: 1})
  }

  async imagePresent(ref: string, expectedImageId?: string): Promise<boolean> {
    const result = await this.docker(['image', 'inspect', '--format', '{{.Id}}', ref])
    if (result.exitCode !== 0) {
      if (/no such image/i.test(result.stderr)) return false
      throw this.engineUnreachable(result)
    }
    return expectedImageId === undefined || sameImageId(result.stdout, expectedImageId)
  }

  async loadImage(ref: string, options: target.LoadImageOptions = {}): Promise<target.LoadImageResult> {
    if (await this.imagePresent(ref, options.expectedImageId)) return 'already-present'
    throw new DeployError(
      `the local Docker engine does not have ${ref}, so Docker Desktop's Kubernetes cannot run it`,
      {
        fix: 'build the image with the same Docker engine Docker Desktop runs (check `docker context ls`: the current context must be desktop-linux / default)',
      },
    )
  }

  builderEnv(): Promise<Record<string, string> | null> {
    return Promise.resolve(null)
  }

  /** The node shares the local engine: removing the local image (done by the caller) is all there is. */
  removeImage(_ref: string): Promise<boolean> {
    return Promise.resolve(false)
  }

  /** Docker Desktop publishes NodePorts on localhost. */
  frontendUrl(request: target.FrontendUrlRequest): Promise<string> {
    if (request.ingressHost !== undefined) return Promise.resolve(`http://${request.ingressHost}`)
    if (request.nodePort === undefined) {
      return Promise.reject(
        new DeployError(`no URL for service ${request.namespace}/${request.service} on ${this.describe()}`, {
          fix: `make the service a NodePort or enable the ingress; meanwhile \`kubectl -n ${request.namespace} port-forward svc/${request.service} 8080:80\``,
        }),
      )
    }
    return Promise.resolve(`http://localhost:${request.nodePort}`)
  }

  private docker(args: string[]): Promise<RunResult> {
    return this.runner.run('docker', args, {timeoutMs: this.options.timeoutMs ?? 30_000})
  }

  private engineUnreachable(result: RunResult): PrerequisiteError {
    return new PrerequisiteError('the Docker engine of Docker Desktop does not answer', {
      fix: 'start Docker Desktop and enable Kubernetes in its settings',
      details: result.stderr
        .trim()
        .split('\n')
        .filter((line) => line.length > 0)
        .slice(-4),
    })
  }
}
