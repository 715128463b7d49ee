import {DeployError, PrerequisiteError} from '../errors.js'
import type {ProcessRunner, RunResult} from '../process/runner.js'
import type {ClusterKind} from './cluster-kind.js'
import type * as target from './cluster-target.js'
import {qualifiedImageRef, sameImageId} from './cluster-target.js'
import {runImageLoadCommand} from './image-load-command.js'
import {findImage, type ListedImage, parseImageList, sharedWithOtherRepositories} from './minikube-output.js'

export interface NodeContainerTimeouts {
  commandMs: number
  imageLoadMs: number
}

export const DEFAULT_NODE_CONTAINER_TIMEOUTS: NodeContainerTimeouts = {
  commandMs: 30_000,
  imageLoadMs: 300_000,
}

/** What differs between kind and k3d: the tool, its commands and the name of the node container. */
export interface NodeContainerTool {
  kind: ClusterKind
  binary: string
  describe: string
  /** The Docker container of the (first) control-plane node. */
  nodeContainer: string
  versionArgs: string[]
  loadArgs(ref: string): string[]
  /** How to create or start the cluster when its node container is missing or stopped. */
  startFix: string
}

/**
 * A cluster whose nodes are Docker containers (kind, k3d): images are sent by the tool's own load
 * command, and what the node has is read with `crictl` inside the control-plane container. Only that
 * node is checked; both tools load every image into every node.
 */
export class NodeContainerCluster implements target.ClusterTarget {
  readonly kind: ClusterKind

  constructor(
    protected readonly runner: ProcessRunner,
    private readonly tool: NodeContainerTool,
    private readonly timeouts: NodeContainerTimeouts = DEFAULT_NODE_CONTAINER_TIMEOUTS,
  ) {
    this.kind = tool.kind
  }

  describe(): string {
    return this.tool.describe
  }

  async version(): Promise<string> {
    const result = await this.runner.run(this.tool.binary, this.tool.versionArgs, {
      timeoutMs: this.timeouts.commandMs,
    })
    const version = result.stdout.trim().split('\n')[0]?.trim() ?? ''
    if (result.exitCode !== 0 || version.length === 0)
      throw this.failure(`\`${this.tool.binary} version\` failed`, result)
    return version
  }

  async ensureRunning(): Promise<void> {
    const node = this.tool.nodeContainer
    const result = await this.docker(['inspect', '--format', '{{.State.Running}}', node])
    if (result.exitCode !== 0) {
      throw new PrerequisiteError(`${this.describe()} does not exist (no node container "${node}")`, {
        fix: this.tool.startFix,
      })
    }
    if (result.stdout.trim() !== 'true') {
      throw new PrerequisiteError(`${this.describe()} is stopped (node container "${node}" is not running)`, {
        fix: this.tool.startFix,
      })
    }
  }

  nodeRuntime(): Promise<target.NodeRuntime> {
    // Both tools run containerd in their node images; there is no Docker daemon to point a builder at.
    return Promise.resolve({containerRuntime: 'containerd', nodeCount: 1})
  }

  async imagePresent(ref: string, expectedImageId?: string): Promise<boolean> {
    const listed = findImage(await this.listImages(), ref)
    return listed !== undefined && (expectedImageId === undefined || sameImageId(listed.id, expectedImageId))
  }

  async removeImage(ref: string): Promise<boolean> {
    const listed = findImage(await this.listImages(), ref)
    if (listed === undefined || sharedWithOtherRepositories(listed, ref)) return false
    const result = await this.docker([
      'exec',
      this.tool.nodeContainer,
      'crictl',
      'rmi',
      qualifiedImageRef(ref),
    ])
    if (result.exitCode !== 0)
      throw this.failure(`could not remove ${ref} from node "${this.tool.nodeContainer}"`, result)
    return true
  }

  async loadImage(ref: string, options: target.LoadImageOptions = {}): Promise<target.LoadImageResult> {
    // `kind load` re-sends the whole image every time (kind #380): ask the node first.
    if (!options.freshlyBuilt && (await this.imagePresent(ref, options.expectedImageId)))
      return 'already-present'
    const args = this.tool.loadArgs(ref)
    const load = {ref, into: this.describe(), timeoutMs: this.timeouts.imageLoadMs}
    const result = await runImageLoadCommand(load, options, (run) =>
      this.runner.run(this.tool.binary, args, run),
    )
    if (result.exitCode !== 0) {
      throw new DeployError(`${this.tool.binary} could not load ${ref} into ${this.describe()}`, {
        where: [this.tool.binary, ...args].join(' '),
        fix: `check that \`docker image inspect ${ref}\` finds the image locally`,
        details: tailLines(`${result.stderr}\n${result.stdout}`),
      })
    }
    const listed = findImage(await this.listImages(), ref)
    if (listed === undefined) {
      throw new DeployError(
        `\`${[this.tool.binary, ...args].join(' ')}\` succeeded but node "${this.tool.nodeContainer}" does not list ${ref}`,
        {
          fix: `run \`docker exec ${this.tool.nodeContainer} crictl images\` to see what the node has`,
        },
      )
    }
    if (options.expectedImageId !== undefined && !sameImageId(listed.id, options.expectedImageId)) {
      throw new DeployError(
        `node "${this.tool.nodeContainer}" resolves ${ref} to another image than the one built`,
        {
          fix: `deploy with a content tag (the default), or remove the old image: \`docker exec ${this.tool.nodeContainer} crictl rmi ${ref}\``,
        },
      )
    }
    return 'loaded'
  }

  builderEnv(): Promise<Record<string, string> | null> {
    return Promise.resolve(null)
  }

  /**
   * The nodePort on the node container's IP: reachable from a Linux host. On macOS and Windows that IP
   * is inside Docker's VM, so the error/hint points at port mappings or `kubectl port-forward` instead.
   */
  async frontendUrl(request: target.FrontendUrlRequest): Promise<string> {
    if (request.ingressHost !== undefined) return `http://${request.ingressHost}`
    const portForward = `kubectl -n ${request.namespace} port-forward svc/${request.service} 8080:80`
    if (request.nodePort === undefined) {
      throw new DeployError(
        `no URL for service ${request.namespace}/${request.service} on ${this.describe()}`,
        {
          fix: `make the service a NodePort or enable the ingress; meanwhile \`${portForward}\``,
        },
      )
    }
    const result = await this.docker([
      'inspect',
      '--format',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
      this.tool.nodeContainer,
    ])
    const ip = result.stdout.trim().split(/\s+/)[0] ?? ''
    if (result.exitCode !== 0 || ip.length === 0) {
      throw new DeployError(`cannot find the address of node "${this.tool.nodeContainer}"`, {
        fix: `\`${portForward}\`, then open http://localhost:8080`,
        details: tailLines(result.stderr),
      })
    }
    return `http://${ip}:${request.nodePort}`
  }

  private async listImages(): Promise<ListedImage[]> {
    const result = await this.docker(['exec', this.tool.nodeContainer, 'crictl', 'images', '-o', 'json'])
    const images = result.exitCode === 0 ? parseImageList(result.stdout) : null
    if (images === null)
      throw this.failure(`could not list the images of node "${this.tool.nodeContainer}"`, result)
    return images
  }

  private docker(args: string[]): Promise<RunResult> {
    return this.runner.run('docker', args, {timeoutMs: this.timeouts.commandMs})
  }

  private failure(message: string, result: RunResult): PrerequisiteError {
    return new PrerequisiteError(message, {
      where: this.describe(),
      fix: this.tool.startFix,
      details: tailLines(`${result.stderr}\n${result.stdout}`),
    })
  }
}

function tailLines(output: string, count = 8): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .slice(-count)
}

/** A kind cluster: node container `<name>-control-plane`, images sent with `kind load docker-image`. */
export class KindCluster extends NodeContainerCluster {
  constructor(runner: ProcessRunner, options: {name: string; timeouts?: Partial<NodeContainerTimeouts>}) {
    const {name} = options
    super(
      runner,
      {
        kind: 'kind',
        binary: 'kind',
        describe: `kind cluster "${name}"`,
        nodeContainer: `${name}-control-plane`,
        versionArgs: ['version'],
        loadArgs: (ref) => ['load', 'docker-image', ref, '--name', name],
        startFix: `create it: \`kind create cluster --name ${name}\` (a stopped one: \`docker start ${name}-control-plane\`)`,
      },
      {...DEFAULT_NODE_CONTAINER_TIMEOUTS, ...options.timeouts},
    )
  }
}

// Copies of KindCluster's constructor on purpose: only the tool's data differs, and it reads best per tool.
/** A k3d cluster: node container `k3d-<name>-server-0`, images sent with `k3d image import`. */
export class K3dCluster extends NodeContainerCluster {
  constructor(runner: ProcessRunner, options: {name: string; timeouts?: Partial<NodeContainerTimeouts>}) {
    const {name} = options
    super(
      runner,
      {
        kind: 'k3d',
        binary: 'k3d',
        describe: `k3d cluster "${name}"`,
        nodeContainer: `k3d-${name}-server-0`,
        versionArgs: ['version'],
        loadArgs: (ref) => ['image', 'import', ref, '-c', name],
        startFix: `start it: \`k3d cluster start ${name}\` (or create it: \`k3d cluster create ${name}\`)`,
      },
      {...DEFAULT_NODE_CONTAINER_TIMEOUTS, ...options.timeouts},
    )
  }
}
