import {describe, expect, it} from 'vitest'

import {createClusterTarget} from '../../src/lib/cluster/create-cluster-target.js'
import {DockerDesktopCluster} from '../../src/lib/cluster/docker-desktop-cluster.js'
import {K3dCluster, KindCluster} from '../../src/lib/cluster/node-container-cluster.js'
import {DeployError, PrerequisiteError} from '../../src/lib/errors.js'
import {fixture, ScriptedProcessRunner} from './support/scripted-runner.js'

const FRONTEND = 'todo-frontend:sha-1a2b3c4d'
const FRONTEND_ID = '91971afdbd9908e61c9a7c0d9c0a0d2c415e728fcc2bc9b387fcde7f49f38c78'
const KIND_IMAGES = 'docker exec dev-control-plane crictl images -o json'
const EMPTY_CRICTL = '{"images": []}'

describe('KindCluster', () => {
  it('skips kind load when the node already has the image with the same ID (kind #380 re-sends otherwise)', async () => {
    const runner = new ScriptedProcessRunner().on(KIND_IMAGES, {stdout: fixture('kind/crictl-images.json')})
    const kind = new KindCluster(runner, {name: 'dev'})
    expect(await kind.loadImage(FRONTEND, {expectedImageId: `sha256:${FRONTEND_ID}`})).toBe('already-present')
    expect(runner.commandLines()).toEqual([KIND_IMAGES])
  })

  it('loads with kind load docker-image --name and checks the node lists it', async () => {
    const runner = new ScriptedProcessRunner()
      .on(KIND_IMAGES, {stdout: EMPTY_CRICTL}, {stdout: fixture('kind/crictl-images.json')})
      .on(`kind load docker-image ${FRONTEND} --name dev`, {stderr: fixture('kind/kind-load.stderr')})
    const lines: string[] = []
    expect(
      await new KindCluster(runner, {name: 'dev'}).loadImage(FRONTEND, {onLine: (line) => lines.push(line)}),
    ).toBe('loaded')
    expect(runner.commandLines()).toEqual([
      KIND_IMAGES,
      `kind load docker-image ${FRONTEND} --name dev`,
      KIND_IMAGES,
    ])
    expect(lines[0]).toContain('not yet present on node "dev-control-plane", loading...')
  })

  it('loads a freshly built image with kind without asking the node first', async () => {
    const runner = new ScriptedProcessRunner()
      .on(KIND_IMAGES, {stdout: fixture('kind/crictl-images.json')})
      .on(`kind load docker-image ${FRONTEND} --name dev`, {stderr: fixture('kind/kind-load.stderr')})
    expect(await new KindCluster(runner, {name: 'dev'}).loadImage(FRONTEND, {freshlyBuilt: true})).toBe(
      'loaded',
    )
    expect(runner.commandLines()).toEqual([`kind load docker-image ${FRONTEND} --name dev`, KIND_IMAGES])
  })

  it("reports kind's error when the load fails", async () => {
    const runner = new ScriptedProcessRunner()
      .on(KIND_IMAGES, {stdout: EMPTY_CRICTL})
      .on(`kind load docker-image ${FRONTEND} --name dev`, {
        exitCode: 1,
        stderr: fixture('kind/kind-load-failure.stderr'),
      })
    const error = await new KindCluster(runner, {name: 'dev'})
      .loadImage(FRONTEND)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DeployError)
    expect((error as DeployError).details).toEqual([`ERROR: image: "${FRONTEND}" not present locally`])
  })

  it('says a cluster without its node container does not exist, with the create command', async () => {
    const runner = new ScriptedProcessRunner().on(
      'docker inspect --format {{.State.Running}} kind-control-plane',
      {
        exitCode: 1,
        stderr: fixture('kind/docker-inspect-missing.stderr'),
      },
    )
    const error = await new KindCluster(runner, {name: 'kind'})
      .ensureRunning()
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).message).toBe(
      'kind cluster "kind" does not exist (no node container "kind-control-plane")',
    )
    expect((error as PrerequisiteError).fix).toContain('kind create cluster --name kind')
  })

  it('serves the nodePort on the node container IP', async () => {
    const runner = new ScriptedProcessRunner().on(
      'docker inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} dev-control-plane',
      {stdout: fixture('kind/docker-inspect-ip.txt')},
    )
    const url = await new KindCluster(runner, {name: 'dev'}).frontendUrl({
      service: 'todo-frontend-service',
      namespace: 'todo-app-dev',
      nodePort: 30080,
    })
    expect(url).toBe('http://172.18.0.2:30080')
  })

  it('has no docker-env builder and a containerd node', async () => {
    const kind = new KindCluster(new ScriptedProcessRunner(), {name: 'dev'})
    expect(await kind.builderEnv()).toBeNull()
    expect(await kind.nodeRuntime()).toEqual({containerRuntime: 'containerd', nodeCount: 1})
  })

  it('reads kind version', async () => {
    const runner = new ScriptedProcessRunner().on('kind version', {stdout: fixture('kind/version.txt')})
    expect(await new KindCluster(runner, {name: 'dev'}).version()).toBe('kind v0.24.0 go1.22.6 linux/amd64')
  })
})

describe('K3dCluster', () => {
  it('imports with k3d image import -c into the k3d-<name>-server-0 node', async () => {
    const images = 'docker exec k3d-todo-server-0 crictl images -o json'
    const runner = new ScriptedProcessRunner()
      .on(images, {stdout: EMPTY_CRICTL}, {stdout: fixture('kind/crictl-images.json')})
      .on(`k3d image import ${FRONTEND} -c todo`, {})
    expect(await new K3dCluster(runner, {name: 'todo'}).loadImage(FRONTEND)).toBe('loaded')
    expect(runner.commandLines()).toEqual([images, `k3d image import ${FRONTEND} -c todo`, images])
  })

  it('reads the first line of k3d version', async () => {
    const runner = new ScriptedProcessRunner().on('k3d version', {stdout: fixture('k3d/version.txt')})
    expect(await new K3dCluster(runner, {name: 'todo'}).version()).toBe('k3d version v5.7.4')
  })

  it('turns a missing k3d binary into the install hint', async () => {
    const runner = new ScriptedProcessRunner()
      .on('docker exec k3d-todo-server-0 crictl images -o json', {stdout: EMPTY_CRICTL})
      .on(`k3d image import ${FRONTEND} -c todo`, {missingBinary: true})
    const error = await new K3dCluster(runner, {name: 'todo'})
      .loadImage(FRONTEND)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).fix).toContain('https://k3d.io')
  })
})

describe('DockerDesktopCluster', () => {
  it('sees images of the local engine without loading them', async () => {
    const runner = new ScriptedProcessRunner().on(`docker image inspect --format {{.Id}} ${FRONTEND}`, {
      stdout: `sha256:${FRONTEND_ID}\n`,
    })
    expect(await new DockerDesktopCluster(runner).loadImage(FRONTEND, {expectedImageId: FRONTEND_ID})).toBe(
      'already-present',
    )
  })

  it('fails the load of an image the local engine does not have', async () => {
    const runner = new ScriptedProcessRunner().on(
      'docker image inspect --format {{.Id}} todo-frontend:sha-0000',
      {
        exitCode: 1,
        stderr: fixture('docker-desktop/docker-image-inspect-missing.stderr'),
      },
    )
    const desktop = new DockerDesktopCluster(runner)
    expect(await desktop.imagePresent('todo-frontend:sha-0000')).toBe(false)
    await expect(desktop.loadImage('todo-frontend:sha-0000')).rejects.toBeInstanceOf(DeployError)
  })

  it('serves NodePorts on localhost', async () => {
    const url = await new DockerDesktopCluster(new ScriptedProcessRunner()).frontendUrl({
      service: 's',
      namespace: 'n',
      nodePort: 30080,
    })
    expect(url).toBe('http://localhost:30080')
  })
})

describe('createClusterTarget', () => {
  it('builds the adapter for each detected kind', () => {
    const runner = new ScriptedProcessRunner()
    expect(createClusterTarget({kind: 'minikube', name: 'todo'}, runner).describe()).toBe(
      'minikube profile "todo"',
    )
    expect(createClusterTarget({kind: 'kind', name: 'dev'}, runner).describe()).toBe('kind cluster "dev"')
    expect(createClusterTarget({kind: 'k3d', name: 'lab'}, runner).describe()).toBe('k3d cluster "lab"')
    expect(createClusterTarget({kind: 'docker-desktop', name: 'docker-desktop'}, runner).kind).toBe(
      'docker-desktop',
    )
  })
})
