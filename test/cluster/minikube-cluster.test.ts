import {describe, expect, it} from 'vitest'

import {MinikubeCluster} from '../../src/lib/cluster/minikube-cluster.js'
import {
  DeployError,
  ExitCode,
  InterruptedError,
  PrerequisiteError,
  TodoDeployError,
} from '../../src/lib/errors.js'
import {fixture, ScriptedProcessRunner} from './support/scripted-runner.js'

const FRONTEND = 'todo-frontend:sha-1a2b3c4d'
const FRONTEND_ID = 'sha256:91971afdbd9908e61c9a7c0d9c0a0d2c415e728fcc2bc9b387fcde7f49f38c78'
const IMAGE_LS = 'minikube -p minikube image ls --format json'
const SERVICE_URL = 'minikube -p minikube service todo-frontend-service -n todo-app-dev --url'

function cluster(runner: ScriptedProcessRunner, profile = 'minikube', serviceUrlMs = 2000): MinikubeCluster {
  return new MinikubeCluster(runner, {profile, timeouts: {serviceUrlMs}})
}

async function rejection(promise: Promise<unknown>): Promise<TodoDeployError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof TodoDeployError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

describe('MinikubeCluster.ensureRunning', () => {
  it('accepts a running profile, asking with the profile flag and a bounded time', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p todo status -o json', {
      stdout: fixture('minikube/status-running.json'),
    })
    await cluster(runner, 'todo').ensureRunning()
    expect(runner.commandLines()).toEqual(['minikube -p todo status -o json'])
    expect(runner.calls[0]?.options.timeoutMs).toBeGreaterThan(0)
  })

  it('says a stopped profile is not running and how to start it (exit 3)', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p minikube status -o json', {
      exitCode: 7,
      stdout: fixture('minikube/status-stopped.json'),
    })
    const error = await rejection(cluster(runner).ensureRunning())
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect(error.exitCode).toBe(ExitCode.Prerequisite)
    expect(error.message).toBe('minikube profile "minikube" is not running (host: Stopped)')
    expect(error.fix).toContain('minikube start -p minikube')
  })

  it('says a missing profile does not exist (minikube exit 85, CloudEvents on stdout)', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p todo status -o json', {
      exitCode: 85,
      stdout: fixture('minikube/status-profile-not-found.stdout'),
    })
    const error = await rejection(cluster(runner, 'todo').ensureRunning())
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect(error.message).toBe('minikube profile "todo" does not exist')
    expect(error.fix).toContain('minikube start -p todo')
  })

  it('points a paused profile at unpause', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p minikube status -o json', {
      exitCode: 2,
      stdout: fixture('minikube/status-paused.json'),
    })
    const error = await rejection(cluster(runner).ensureRunning())
    expect(error.message).toContain('is paused')
    expect(error.fix).toContain('minikube unpause -p minikube')
  })

  it('reads the control-plane entry of a multi-node status array', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p multinode status -o json', {
      stdout: fixture('minikube/status-multinode.json'),
    })
    await expect(cluster(runner, 'multinode').ensureRunning()).resolves.toBeUndefined()
  })

  it('turns a missing minikube binary into a prerequisite error with the install hint', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p minikube status -o json', {
      missingBinary: true,
    })
    const error = await rejection(cluster(runner).ensureRunning())
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect(error.message).toBe('minikube was not found on PATH')
    expect(error.fix).toContain('https://minikube.sigs.k8s.io/docs/start/')
  })
})

describe('MinikubeCluster images', () => {
  it('finds a short image ref among the docker.io/library-qualified tags minikube lists', async () => {
    const runner = new ScriptedProcessRunner().on(IMAGE_LS, {
      stdout: fixture('minikube/image-ls-listed.json'),
    })
    const minikube = cluster(runner)
    expect(await minikube.imagePresent(FRONTEND)).toBe(true)
    expect(await minikube.imagePresent(FRONTEND, FRONTEND_ID)).toBe(true)
    expect(
      await minikube.imagePresent(
        FRONTEND,
        'sha256:d81a3af6bc9e2c55a2af2ca99ab472ad452f9b29006baa8d8aa35898b1ce247f',
      ),
    ).toBe(false)
    expect(await minikube.imagePresent('todo-frontend:sha-ffffffff')).toBe(false)
  })

  it("removes this app's image, but not one another repository also names (the runtime removes every tag)", async () => {
    const listing = (tags: string[]) => JSON.stringify([{id: FRONTEND_ID, repoTags: tags, size: '1'}])
    const own = new ScriptedProcessRunner()
      .on(IMAGE_LS, {
        stdout: listing([`docker.io/library/${FRONTEND}`, 'docker.io/library/todo-frontend:latest']),
      })
      .on(`minikube -p minikube image rm ${FRONTEND}`, {})
    expect(await cluster(own).removeImage(FRONTEND)).toBe(true)
    expect(own.commandLines()).toContain(`minikube -p minikube image rm ${FRONTEND}`)

    const shared = new ScriptedProcessRunner().on(IMAGE_LS, {
      stdout: listing([`docker.io/library/${FRONTEND}`, 'docker.io/library/other-app-frontend:c-1']),
    })
    expect(await cluster(shared).removeImage(FRONTEND)).toBe(false)
    expect(shared.commandLines()).toEqual([IMAGE_LS])
  })

  it('skips the load when the cluster already has the image', async () => {
    const runner = new ScriptedProcessRunner().on(IMAGE_LS, {
      stdout: fixture('minikube/image-ls-listed.json'),
    })
    expect(await cluster(runner).loadImage(FRONTEND, {expectedImageId: FRONTEND_ID})).toBe('already-present')
    expect(runner.commandLines()).toEqual([IMAGE_LS])
  })

  it('loads a missing image, streams its lines, then checks it is listed', async () => {
    const runner = new ScriptedProcessRunner()
      .on(
        IMAGE_LS,
        {stdout: fixture('minikube/image-ls-not-listed.json')},
        {stdout: fixture('minikube/image-ls-listed.json')},
      )
      .on(`minikube -p minikube image load ${FRONTEND}`, {stderr: 'loading...\n'})
    const lines: string[] = []
    const result = await cluster(runner).loadImage(FRONTEND, {
      expectedImageId: FRONTEND_ID,
      onLine: (line) => lines.push(line),
    })
    expect(result).toBe('loaded')
    expect(runner.commandLines()).toEqual([IMAGE_LS, `minikube -p minikube image load ${FRONTEND}`, IMAGE_LS])
    expect(lines).toEqual(['loading...'])
    expect(runner.calls[1]?.options.timeoutMs).toBeGreaterThan(60_000)
  })

  it('loads a freshly built image without looking first, and still checks it is listed', async () => {
    const runner = new ScriptedProcessRunner()
      .on(IMAGE_LS, {stdout: fixture('minikube/image-ls-listed.json')})
      .on(`minikube -p minikube image load ${FRONTEND}`, {stderr: 'loading...\n'})
    const result = await cluster(runner).loadImage(FRONTEND, {
      expectedImageId: FRONTEND_ID,
      freshlyBuilt: true,
    })
    expect(result).toBe('loaded')
    expect(runner.commandLines()).toEqual([`minikube -p minikube image load ${FRONTEND}`, IMAGE_LS])
  })

  it("reports a failed load with minikube's reason (exit 5)", async () => {
    const runner = new ScriptedProcessRunner()
      .on(IMAGE_LS, {stdout: fixture('minikube/image-ls-not-listed.json')})
      .on(`minikube -p minikube image load ${FRONTEND}`, {
        exitCode: 80,
        stderr: fixture('minikube/image-load-failure.stderr'),
      })
    const error = await rejection(cluster(runner).loadImage(FRONTEND))
    expect(error).toBeInstanceOf(DeployError)
    expect(error.exitCode).toBe(ExitCode.DeployFailed)
    expect(error.message).toBe(`minikube could not load ${FRONTEND} into minikube profile "minikube"`)
    expect(error.details.join('\n')).toContain('Exiting due to GUEST_IMAGE_LOAD: Failed to load image')
    expect(error.fix).toContain(`docker image inspect ${FRONTEND}`)
  })

  it('fails when a load "succeeds" but the tag is not listed afterwards', async () => {
    const runner = new ScriptedProcessRunner()
      .on(IMAGE_LS, {stdout: fixture('minikube/image-ls-not-listed.json')})
      .on(`minikube -p minikube image load ${FRONTEND}`, {})
    const error = await rejection(cluster(runner).loadImage(FRONTEND))
    expect(error).toBeInstanceOf(DeployError)
    expect(error.message).toContain('does not list the image')
  })

  it('names minikube #11276 when the tag still resolves to the old image after the load', async () => {
    const runner = new ScriptedProcessRunner()
      .on(IMAGE_LS, {stdout: fixture('minikube/image-ls-old-id.json')})
      .on(`minikube -p minikube image load ${FRONTEND}`, {})
    const error = await rejection(cluster(runner).loadImage(FRONTEND, {expectedImageId: FRONTEND_ID}))
    expect(error).toBeInstanceOf(DeployError)
    expect(error.message).toContain('older image')
    expect(error.details.join(' ')).toContain('#11276')
    expect(error.fix).toContain(`minikube -p minikube image rm ${FRONTEND}`)
  })

  it('reports an interrupted load as interrupted', async () => {
    const controller = new AbortController()
    controller.abort()
    const runner = new ScriptedProcessRunner()
      .on(IMAGE_LS, {stdout: fixture('minikube/image-ls-not-listed.json')})
      .on(`minikube -p minikube image load ${FRONTEND}`, {})
    await expect(cluster(runner).loadImage(FRONTEND, {signal: controller.signal})).rejects.toBeInstanceOf(
      InterruptedError,
    )
  })
})

describe('MinikubeCluster runtime and docker-env', () => {
  it('reads the node runtime of this profile from profile list', async () => {
    const runner = new ScriptedProcessRunner()
      .on('minikube -p minikube profile list -o json', {stdout: fixture('minikube/profile-list-docker.json')})
      .on('minikube -p todo profile list -o json', {stdout: fixture('minikube/profile-list-containerd.json')})
    expect(await cluster(runner).nodeRuntime()).toEqual({containerRuntime: 'docker', nodeCount: 1})
    expect(await cluster(runner, 'todo').nodeRuntime()).toEqual({
      containerRuntime: 'containerd',
      nodeCount: 1,
    })
  })

  it('says which profiles exist when this one is not listed', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p other profile list -o json', {
      stdout: fixture('minikube/profile-list-docker.json'),
    })
    const error = await rejection(cluster(runner, 'other').nodeRuntime())
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect(error.details).toEqual(['existing profiles: minikube'])
  })

  it('gives the docker-env variables on a docker node', async () => {
    const runner = new ScriptedProcessRunner()
      .on('minikube -p minikube profile list -o json', {stdout: fixture('minikube/profile-list-docker.json')})
      .on('minikube -p minikube docker-env --shell none', {stdout: fixture('minikube/docker-env.txt')})
    expect(await cluster(runner).builderEnv()).toEqual({
      DOCKER_TLS_VERIFY: '1',
      DOCKER_HOST: 'tcp://127.0.0.1:32772',
      DOCKER_CERT_PATH: '/home/dev/.minikube/certs',
      MINIKUBE_ACTIVE_DOCKERD: 'minikube',
    })
  })

  it('has no builder env on a containerd node and does not call docker-env', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p todo profile list -o json', {
      stdout: fixture('minikube/profile-list-containerd.json'),
    })
    expect(await cluster(runner, 'todo').builderEnv()).toBeNull()
    expect(runner.commandLines()).toEqual(['minikube -p todo profile list -o json'])
  })
})

describe('MinikubeCluster.frontendUrl', () => {
  const request = {service: 'todo-frontend-service', namespace: 'todo-app-dev', nodePort: 30080}

  it('uses the URL minikube service prints (Linux)', async () => {
    const runner = new ScriptedProcessRunner().on(SERVICE_URL, {
      stdout: fixture('minikube/service-url-linux.stdout'),
    })
    expect(await cluster(runner).frontendUrl(request)).toBe('http://192.168.49.2:30080')
    expect(runner.calls[0]?.options.timeoutMs).toBe(2000)
  })

  it('reads the first URL line past "* Starting tunnel" and stops the tunnel that keeps running (macOS docker driver)', async () => {
    const runner = new ScriptedProcessRunner().on(SERVICE_URL, {
      hang: true,
      stdout: fixture('minikube/service-url-darwin.stdout'),
      stderr: fixture('minikube/service-url-darwin.stderr'),
    })
    const started = Date.now()
    expect(await cluster(runner, 'minikube', 30_000).frontendUrl(request)).toBe('http://127.0.0.1:52613')
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(runner.calls[0]?.options.signal?.aborted).toBe(true)
  })

  it('falls back to the node IP and nodePort when the tunnel never prints a URL', async () => {
    const runner = new ScriptedProcessRunner()
      .on(SERVICE_URL, {hang: true, stdout: '* Starting tunnel for service todo-frontend-service.\n'})
      .on('minikube -p minikube ip', {stdout: fixture('minikube/ip.txt')})
    expect(await cluster(runner, 'minikube', 200).frontendUrl(request)).toBe('http://192.168.49.2:30080')
    expect(runner.commandLines()).toEqual([SERVICE_URL, 'minikube -p minikube ip'])
  })

  it('falls back to the node IP when minikube cannot find the service', async () => {
    const runner = new ScriptedProcessRunner()
      .on(SERVICE_URL, {exitCode: 115, stderr: fixture('minikube/service-not-found.stderr')})
      .on('minikube -p minikube ip', {stdout: fixture('minikube/ip.txt')})
    expect(await cluster(runner).frontendUrl(request)).toBe('http://192.168.49.2:30080')
  })

  it('says how to reach a service that has neither a URL nor a nodePort', async () => {
    const runner = new ScriptedProcessRunner().on(SERVICE_URL, {
      exitCode: 115,
      stderr: fixture('minikube/service-not-found.stderr'),
    })
    const error = await rejection(
      cluster(runner).frontendUrl({service: 'todo-frontend-service', namespace: 'todo-app-dev'}),
    )
    expect(error).toBeInstanceOf(DeployError)
    expect(error.fix).toContain('kubectl -n todo-app-dev port-forward svc/todo-frontend-service')
  })

  it('uses the ingress host without asking minikube', async () => {
    const runner = new ScriptedProcessRunner()
    expect(await cluster(runner).frontendUrl({...request, ingressHost: 'todo.local'})).toBe(
      'http://todo.local',
    )
    expect(runner.calls).toHaveLength(0)
  })
})

describe('MinikubeCluster.version', () => {
  it('reads minikube version --short', async () => {
    const runner = new ScriptedProcessRunner().on('minikube -p minikube version --short', {
      stdout: fixture('minikube/version-short.txt'),
    })
    expect(await cluster(runner).version()).toBe('v1.34.0')
  })
})
