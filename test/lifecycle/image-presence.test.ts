import {describe, expect, test} from 'vitest'

import {MinikubeCluster} from '../../src/lib/cluster/minikube-cluster.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import type {ProcessRunner, RunResult} from '../../src/lib/process/runner.js'
import {fixture} from '../cluster/support/scripted-runner.js'
import {FakeCluster, testSecrets, type FakeImageEngine} from '../support/fake-connection.js'
import {tempProject, UP_OPTIONS} from '../support/lifecycle-fixtures.js'

const PROFILE = 'todo'

/**
 * The `minikube` binary of a one-node containerd profile, enough for `up`: its image list follows
 * what was loaded from the local engine, as `minikube image ls` does. Records every command line.
 */
class MinikubeNode implements ProcessRunner {
  readonly commandLines: string[] = []
  private readonly images = new Map<string, string>()

  constructor(private readonly engine: FakeImageEngine) {}

  count(command: string): number {
    return this.commandLines.filter((line) => line.startsWith(`minikube -p ${PROFILE} ${command}`)).length
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
        const local = this.engine.images.get(ref)
        if (!local)
          return {exitCode: 1, stdout: '', stderr: `X Exiting due to GUEST_IMAGE_LOAD: ${ref} not found`}
        this.images.set(ref, local.id)
        return ok('')
      }
      case 'service todo-frontend-service':
        return ok(fixture('minikube/service-url-linux.stdout'))
      default:
        throw new Error(`unexpected command: ${line}`)
    }
  }
}

describe('up: the cluster target alone checks which images the cluster has', () => {
  test('one `minikube image ls` per image when the cluster has it, two (before and after) when it is loaded', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const node = new MinikubeNode(fake.engine)
    const connection = {...fake.connection, cluster: new MinikubeCluster(node, {profile: PROFILE})}

    const cold = await runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
    expect(cold.images.map((image) => image.loaded)).toEqual([true, true])
    expect(node.count('image load')).toBe(2)
    expect(node.count('image ls')).toBe(4)

    node.commandLines.length = 0
    const again = await runUp(p.resolved, connection, testSecrets(), UP_OPTIONS)
    expect(again.images.map((image) => [image.loaded, image.loadSkipReason])).toEqual([
      [false, `already in minikube profile "${PROFILE}"`],
      [false, `already in minikube profile "${PROFILE}"`],
    ])
    expect(node.count('image load')).toBe(0)
    expect(node.count('image ls')).toBe(2)
  })
})
