import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {V1Node} from '@kubernetes/client-node'

import type {ImageBuilder} from '../../src/lib/image/image-builder.js'
import {nodeStatusOf, type ClusterNodes, type NodeReader} from '../../src/lib/cluster/cluster-nodes.js'
import type {ProcessRunner, RunResult} from '../../src/lib/process/runner.js'
import {fixture} from '../cluster/support/scripted-runner.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

/**
 * The `minikube` binary of a one-node containerd profile, enough for `up`: its image list follows
 * what was loaded from the local engine, as `minikube image ls` does. Records every command line;
 * `sendImage` stands for the transfer of `image load` (nothing by default).
 */
export class MinikubeNode implements ProcessRunner {
  /** What `minikube service --url` prints; the recorded fixture's URL by default. */
  serviceUrl: string | undefined
  readonly commandLines: string[] = []
  readonly images = new Map<string, string>()

  constructor(
    private readonly profile: string,
    private readonly engine: Pick<ImageBuilder, 'hasImage'>,
    private readonly sendImage: (ref: string) => Promise<void> = async () => {},
  ) {}

  count(command: string): number {
    return this.commandLines.filter((line) => line.startsWith(`minikube -p ${this.profile} ${command}`))
      .length
  }

  async run(file: string, args: readonly string[]): Promise<RunResult> {
    const line = [file, ...args].join(' ')
    this.commandLines.push(line)
    const command = args.slice(2)
    const ok = (stdout: string): RunResult => ({exitCode: 0, stdout, stderr: ''})
    switch (command.slice(0, 2).join(' ')) {
      case 'status -o':
        return ok(fixture('minikube/status-running.json'))
      case 'profile list':
        return ok(fixture('minikube/profile-list-containerd.json'))
      case 'image ls':
        return ok(
          JSON.stringify(
            [...this.images].map(([ref, id]) => ({
              id: id.replace(/^sha256:/, ''),
              repoTags: [`docker.io/library/${ref}`],
            })),
          ),
        )
      case 'image load': {
        const ref = command[2] ?? ''
        const local = await this.engine.hasImage(ref)
        if (!local)
          return {exitCode: 1, stdout: '', stderr: `X Exiting due to GUEST_IMAGE_LOAD: ${ref} not found`}
        await this.sendImage(ref)
        this.images.set(ref, local.id)
        return ok('')
      }
      case 'service todo-frontend-service':
        return ok(
          this.serviceUrl === undefined
            ? fixture('minikube/service-url-linux.stdout')
            : `${this.serviceUrl}\n`,
        )
      default:
        throw new Error(`unexpected command: ${line}`)
    }
  }
}

/**
 * The node as the API server shows it (recorded on a real minikube): the kubelet lists what the node
 * has once it refreshes, which a test does with `kubeletRefresh()`.
 */
export class ApiNode implements NodeReader {
  readonly recorded = nodeStatusOf(
    JSON.parse(readFileSync(path.join(fixtures, 'real-cluster/node-status-images.json'), 'utf8')) as V1Node,
  )
  status = {...this.recorded, ready: true}

  constructor(private readonly node: MinikubeNode) {}

  kubeletRefresh(): void {
    this.status.images = [
      ...this.recorded.images,
      ...[...this.node.images.keys()].map((ref) => `docker.io/library/${ref}`),
    ]
  }

  async read(): Promise<ClusterNodes | null> {
    return {nodes: [structuredClone(this.status)]}
  }
}
