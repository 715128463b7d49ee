import {DeployError, PrerequisiteError} from '../errors.js'
import type {ProcessRunner, RunOptions, RunResult} from '../process/runner.js'
import type * as target from './cluster-target.js'
import {firstUrlLine, sameImageId} from './cluster-target.js'
import {runImageLoadCommand} from './image-load-command.js'
import {
  findImage,
  type ListedImage,
  minikubeMessages,
  parseDockerEnv,
  parseImageList,
  parseMinikubeStatus,
  parseProfileList,
  sharedWithOtherRepositories,
} from './minikube-output.js'

export interface MinikubeTimeouts {
  /** Quick queries: version, ip, image ls, profile list, docker-env. */
  commandMs: number
  /** `status` checks the VM, kubelet and API server: slower on a busy machine. */
  statusMs: number
  /** `image load` sends the whole image (10-30 s per image). */
  imageLoadMs: number
  /** `service --url` keeps a tunnel open on the macOS/Windows docker driver: read the URL within this time. */
  serviceUrlMs: number
}

export const DEFAULT_MINIKUBE_TIMEOUTS: MinikubeTimeouts = {
  commandMs: 30_000,
  statusMs: 60_000,
  imageLoadMs: 300_000,
  serviceUrlMs: 20_000,
}

/** minikube's exit code for a profile that does not exist (reason.ExGuestNotFound). */
const EXIT_GUEST_NOT_FOUND = 85

export interface MinikubeClusterOptions {
  profile: string
  timeouts?: Partial<MinikubeTimeouts>
}

/** A minikube profile, driven through the `minikube` binary; every call names the profile (`-p`). */
export class MinikubeCluster implements target.ClusterTarget {
  readonly kind = 'minikube' as const
  private readonly profile: string
  private readonly timeouts: MinikubeTimeouts

  constructor(
    private readonly runner: ProcessRunner,
    options: MinikubeClusterOptions,
  ) {
    this.profile = options.profile
    this.timeouts = {...DEFAULT_MINIKUBE_TIMEOUTS, ...options.timeouts}
  }

  describe(): string {
    return `minikube profile "${this.profile}"`
  }

  async version(): Promise<string> {
    const result = await this.minikube(['version', '--short'], {timeoutMs: this.timeouts.commandMs})
    const version = result.stdout.trim().split('\n')[0]?.trim() ?? ''
    if (result.exitCode !== 0 || version.length === 0)
      throw this.failure('`minikube version --short` failed', result)
    return version
  }

  async ensureRunning(): Promise<void> {
    const result = await this.minikube(['status', '-o', 'json'], {timeoutMs: this.timeouts.statusMs})
    const start = `minikube start -p ${this.profile}`
    const statuses = parseMinikubeStatus(result.stdout)
    if (result.exitCode === EXIT_GUEST_NOT_FOUND || statuses === null) {
      if (result.exitCode === EXIT_GUEST_NOT_FOUND || mentionsMissingProfile(result)) {
        throw new PrerequisiteError(`${this.describe()} does not exist`, {fix: `create it: \`${start}\``})
      }
      throw this.failure('could not read `minikube status`', result, start)
    }
    const node = statuses.find((status) => !status.worker) ?? statuses[0]
    if (node === undefined) throw this.failure('could not read `minikube status`', result, start)
    if (node.host !== 'Running') {
      throw new PrerequisiteError(`${this.describe()} is not running (host: ${node.host || 'unknown'})`, {
        fix: `start it: \`${start}\``,
      })
    }
    if (node.apiServer === 'Paused') {
      throw new PrerequisiteError(`${this.describe()} is paused`, {
        fix: `resume it: \`minikube unpause -p ${this.profile}\``,
      })
    }
    if (node.kubelet !== 'Running' || node.apiServer !== 'Running') {
      throw new PrerequisiteError(
        `${this.describe()} is up but Kubernetes is not running (kubelet: ${node.kubelet}, apiserver: ${node.apiServer})`,
        {fix: `restart it: \`${start}\`; if that fails, \`minikube logs -p ${this.profile}\` says why`},
      )
    }
    if (node.kubeconfig === 'Misconfigured') {
      throw new PrerequisiteError(`the kubeconfig entry of ${this.describe()} points at an old address`, {
        fix: `\`minikube update-context -p ${this.profile}\``,
      })
    }
  }

  async nodeRuntime(): Promise<target.NodeRuntime> {
    const result = await this.runner.run('minikube', ['-p', this.profile, 'profile', 'list', '-o', 'json'], {
      timeoutMs: this.timeouts.commandMs,
    })
    const profiles = parseProfileList(result.stdout)
    if (profiles === null) throw this.failure('could not read `minikube profile list -o json`', result)
    const profile = profiles.find((candidate) => candidate.name === this.profile)
    if (profile === undefined) {
      throw new PrerequisiteError(`${this.describe()} does not exist`, {
        fix: `create it: \`minikube start -p ${this.profile}\``,
        details: profiles.length > 0 ? [`existing profiles: ${profiles.map((p) => p.name).join(', ')}`] : [],
      })
    }
    return {containerRuntime: profile.containerRuntime || 'docker', nodeCount: profile.nodeCount}
  }

  async imagePresent(ref: string, expectedImageId?: string): Promise<boolean> {
    const listed = findImage(await this.listImages(), ref)
    return listed !== undefined && (expectedImageId === undefined || sameImageId(listed.id, expectedImageId))
  }

  async removeImage(ref: string): Promise<boolean> {
    const listed = findImage(await this.listImages(), ref)
    if (listed === undefined || sharedWithOtherRepositories(listed, ref)) return false
    const result = await this.minikube(['image', 'rm', ref], {timeoutMs: this.timeouts.commandMs})
    if (result.exitCode !== 0)
      throw this.failure(`minikube could not remove ${ref} from ${this.describe()}`, result)
    return true
  }

  async loadImage(ref: string, options: target.LoadImageOptions = {}): Promise<target.LoadImageResult> {
    if (!options.freshlyBuilt && (await this.imagePresent(ref, options.expectedImageId)))
      return 'already-present'
    const load = {ref, into: this.describe(), timeoutMs: this.timeouts.imageLoadMs}
    const result = await runImageLoadCommand(load, options, (run) =>
      this.minikube(['image', 'load', ref], run),
    )
    if (result.exitCode !== 0) {
      throw new DeployError(`minikube could not load ${ref} into ${this.describe()}`, {
        where: `minikube -p ${this.profile} image load ${ref}`,
        fix: `check that \`docker image inspect ${ref}\` finds the image locally and that the profile has free disk space (\`minikube -p ${this.profile} ssh -- df -h /var\`)`,
        details: tail(minikubeMessages(`${result.stderr}\n${result.stdout}`)),
      })
    }
    const listed = findImage(await this.listImages(), ref)
    if (listed === undefined) {
      throw new DeployError(
        `\`minikube image load ${ref}\` succeeded but ${this.describe()} does not list the image`,
        {
          fix: `run \`minikube -p ${this.profile} image ls\` and \`minikube -p ${this.profile} image load ${ref} --alsologtostderr\` to see what happened`,
        },
      )
    }
    if (options.expectedImageId !== undefined && !sameImageId(listed.id, options.expectedImageId)) {
      throw new DeployError(`${this.describe()} still has an older image under the tag ${ref}`, {
        details: [
          `the cluster has image ${listed.id.slice(0, 19)}, the local engine built ${options.expectedImageId.replace(/^sha256:/, '').slice(0, 12)}`,
          'minikube keeps the old image when a tag it already has is loaded while a container uses it (minikube #11276, #13511)',
        ],
        fix: `deploy with a content tag (the default), or remove the old image first: \`minikube -p ${this.profile} image rm ${ref}\``,
      })
    }
    return 'loaded'
  }

  async builderEnv(): Promise<Record<string, string> | null> {
    const runtime = await this.nodeRuntime()
    // docker-env exposes the node's Docker daemon: there is none on containerd / cri-o nodes (skaffold #5143).
    if (runtime.containerRuntime !== 'docker' || runtime.nodeCount > 1) return null
    const result = await this.minikube(['docker-env', '--shell', 'none'], {
      timeoutMs: this.timeouts.commandMs,
    })
    const env = parseDockerEnv(result.stdout)
    if (result.exitCode !== 0 || env.DOCKER_HOST === undefined) {
      throw this.failure(
        '`minikube docker-env` did not give a Docker endpoint',
        result,
        `minikube start -p ${this.profile}`,
      )
    }
    return env
  }

  async frontendUrl(request: target.FrontendUrlRequest): Promise<string> {
    if (request.ingressHost !== undefined) return `http://${request.ingressHost}`
    const fromService = await this.serviceUrl(request)
    if (fromService !== undefined) return fromService
    if (request.nodePort === undefined) {
      throw new DeployError(
        `no URL for service ${request.namespace}/${request.service} on ${this.describe()}`,
        {
          fix: `make the service a NodePort or enable the ingress; meanwhile \`kubectl -n ${request.namespace} port-forward svc/${request.service} 8080:80\``,
        },
      )
    }
    return `http://${await this.nodeIp()}:${request.nodePort}`
  }

  /**
   * `minikube service --url` prints the URL and exits on Linux, but with the docker driver on macOS and
   * Windows it keeps a tunnel open (minikube #9016, #7644): take the first URL line, then stop it.
   * Undefined when it gives no URL in time, so the caller falls back to the node IP.
   */
  private async serviceUrl(request: target.FrontendUrlRequest): Promise<string | undefined> {
    const gotUrl = new AbortController()
    let url: string | undefined
    try {
      const result = await this.minikube(['service', request.service, '-n', request.namespace, '--url'], {
        timeoutMs: this.timeouts.serviceUrlMs,
        signal: gotUrl.signal,
        onLine: (line, stream) => {
          if (url !== undefined || stream !== 'stdout') return
          url = firstUrlLine([line])
          if (url !== undefined) gotUrl.abort()
        },
      })
      return url ?? (result.exitCode === 0 ? firstUrlLine(result.stdout.split('\n')) : undefined)
    } catch (error) {
      // The runner throws when the call outlives its time; a URL read before that still counts.
      if (url !== undefined) return url
      if (error instanceof PrerequisiteError) throw error
      return undefined
    }
  }

  private async nodeIp(): Promise<string> {
    const result = await this.minikube(['ip'], {timeoutMs: this.timeouts.commandMs})
    const ip = result.stdout.trim().split('\n')[0]?.trim() ?? ''
    if (result.exitCode !== 0 || !/^[0-9a-fA-F.:]+$/.test(ip))
      throw this.failure('`minikube ip` failed', result)
    return ip
  }

  private async listImages(): Promise<ListedImage[]> {
    const result = await this.minikube(['image', 'ls', '--format', 'json'], {
      timeoutMs: this.timeouts.commandMs,
    })
    const images = result.exitCode === 0 ? parseImageList(result.stdout) : null
    if (images === null) throw this.failure(`could not list the images of ${this.describe()}`, result)
    return images
  }

  private minikube(args: readonly string[], options: RunOptions): Promise<RunResult> {
    return this.runner.run('minikube', ['-p', this.profile, ...args], options)
  }

  private failure(message: string, result: RunResult, fixCommand?: string): PrerequisiteError {
    return new PrerequisiteError(message, {
      where: this.describe(),
      fix:
        fixCommand === undefined
          ? `run the same minikube command in a terminal to see the whole error`
          : `\`${fixCommand}\``,
      details: tail(minikubeMessages(`${result.stderr}\n${result.stdout}`)),
    })
  }
}

function mentionsMissingProfile(result: RunResult): boolean {
  return minikubeMessages(`${result.stdout}\n${result.stderr}`).some((message) =>
    /not found|no local cluster named|does not exist/i.test(message),
  )
}

/** The last lines of a failing command: enough to show the cause without flooding the screen. */
function tail(lines: string[], count = 8): string[] {
  return lines.slice(-count)
}
