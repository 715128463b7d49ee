import path from 'node:path'
import {inspect} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {dockerFromEnv} from '../../src/lib/image/docker-engine.js'
import {DockerImageBuilder} from '../../src/lib/image/image-builder.js'
import {ExitCode} from '../../src/lib/errors.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import {DockerCredentials} from '../../src/lib/registry/docker-credentials.js'
import {DockerImagePusher} from '../../src/lib/registry/image-pusher.js'
import {parseRegistryUrl, type RegistryAddress} from '../../src/lib/registry/registry-address.js'
import {RegistryClient} from '../../src/lib/registry/registry-client.js'
import type {RegistryCredential} from '../../src/lib/registry/registry-credential.js'
import {
  busyboxContext,
  removeDir,
  removeTestImages,
  testDocker,
  testRepository,
} from '../support/docker-fixtures.js'
import {testDockerLogin, type TestDockerLogin} from '../support/docker-login.js'
import {dockerAvailable, dockerSocket, inCI} from '../support/real-components.js'
import {refusal, SENTINEL} from './refusal.js'
import {freePort, registryAvailable, startRegistry, type RunningRegistry} from '../support/registry-server.js'

const engine = dockerFromEnv({DOCKER_HOST: `unix://${dockerSocket}`})

// Under CI these must run: a missing docker-registry or Docker Engine fails them instead of skipping.
describe.skipIf(!(dockerAvailable && registryAvailable) && !inCI)(
  'pushing to a real registry (docker-registry 2.8) from the real Docker Engine',
  () => {
    const builder = new DockerImageBuilder(engine)
    const repositories: string[] = []
    const dirs: string[] = []
    const pushedRefs: string[] = []
    let open: RunningRegistry
    let secured: RunningRegistry
    let login: TestDockerLogin

    /** A tiny FROM scratch image with busybox and `content`, tagged `tag` locally. */
    async function buildImage(name: string, content: string, tag = 'c-000000000001') {
      const dockerfileText = 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY content.txt /content.txt\n'
      const dir = await busyboxContext({'content.txt': content, Dockerfile: dockerfileText})
      dirs.push(dir)
      const repository = testRepository(name)
      repositories.push(repository)
      const dockerfilePath = path.join(dir, 'Dockerfile')
      return builder.build({
        context: await BuildContext.scan(dir, dockerfilePath),
        dockerfileText,
        dockerfilePath,
        repository,
        tag,
      })
    }

    function pusherFor(
      address: RegistryAddress,
      credential: RegistryCredential | null,
      pushCredential = credential,
    ) {
      return new DockerImagePusher(engine, address, new RegistryClient(address, credential), pushCredential)
    }

    async function credentialFor(host: string): Promise<RegistryCredential | null> {
      return new DockerCredentials({runner: new ExecaProcessRunner(), env: login.env}).forRegistry(host)
    }

    beforeAll(async () => {
      open = await startRegistry()
      secured = await startRegistry({login: {username: 'ci', password: SENTINEL}})
      login = await testDockerLogin({
        config: {credHelpers: {[secured.host]: 'todo-test'}},
        helpers: {'todo-test': {[secured.host]: {username: 'ci', secret: SENTINEL}}},
      })
    })

    afterAll(async () => {
      const docker = testDocker()
      for (const ref of pushedRefs)
        await docker
          .getImage(ref)
          .remove({force: true})
          .catch(() => undefined)
      for (const repository of repositories) await removeTestImages(repository)
      await Promise.all(dirs.map(removeDir))
      await open?.stop()
      await secured?.stop()
      await login?.remove()
    })

    it('pushes a new image with per-layer progress, then skips it when the registry has that digest', async () => {
      const image = await buildImage('push', 'first')
      const address = parseRegistryUrl(`${open.host}/todo-deploy-test`, true)
      const repository = image.ref.split(':')[0] ?? ''
      const pusher = pusherFor(address, null)
      pushedRefs.push(`${open.host}/todo-deploy-test/${repository}:c-000000000001`)

      const lines: string[] = []
      const first = await pusher.push({
        localRef: image.ref,
        repository,
        tag: 'c-000000000001',
        onProgress: (l) => lines.push(l),
      })
      expect(first).toEqual({
        ref: `${open.host}/todo-deploy-test/${repository}:c-000000000001`,
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        pushed: true,
      })
      expect(lines.some((line) => /^layer [0-9a-f]+: pushed$/.test(line))).toBe(true)
      expect(lines.at(-1)).toBe(`pushed ${first.ref} (${first.digest})`)
      // The registry itself names the pushed digest under the tag.
      const registry = new RegistryClient(address, null)
      expect(await registry.manifestDigest(`todo-deploy-test/${repository}`, 'c-000000000001')).toBe(
        first.digest,
      )

      const again: string[] = []
      const second = await pusher.push({
        localRef: image.ref,
        repository,
        tag: 'c-000000000001',
        onProgress: (l) => again.push(l),
      })
      expect(second).toEqual({...first, pushed: false})
      expect(again).toEqual([
        `${first.ref} is already in the registry with digest ${first.digest}: push skipped`,
      ])
    })

    it('compares digests, not tags: a tag that names another image is pushed over', async () => {
      const address = parseRegistryUrl(open.host, true)
      const a = await buildImage('digest-a', 'content A')
      const b = await buildImage('digest-b', 'content B')
      const pusher = pusherFor(address, null)
      // Both go under one repository and tag, as a rebuilt image with an unchanged content tag would.
      const repository = testRepository('shared')
      pushedRefs.push(`${open.host}/${repository}:c-000000000001`)

      const pushedA = await pusher.push({localRef: a.ref, repository, tag: 'c-000000000001'})
      const lines: string[] = []
      const pushedB = await pusher.push({
        localRef: b.ref,
        repository,
        tag: 'c-000000000001',
        onProgress: (l) => lines.push(l),
      })
      expect(pushedB.pushed).toBe(true)
      expect(pushedB.digest).not.toBe(pushedA.digest)
      expect(lines[0]).toBe(
        `pushing ${pushedB.ref} (the registry holds ${pushedA.digest} under that tag, another image)`,
      )
      // A was pushed before under this tag (its RepoDigests say so), but the registry now names B: push again.
      expect((await pusher.push({localRef: a.ref, repository, tag: 'c-000000000001'})).pushed).toBe(true)
    })

    it('pushes to a registry with htpasswd auth using the credentials from a real docker-credential helper', async () => {
      const image = await buildImage('auth', 'authenticated')
      const address = parseRegistryUrl(secured.host, true)
      const credential = await credentialFor(secured.host)
      expect(credential?.source).toBe('docker-credential-todo-test')
      const repository = image.ref.split(':')[0] ?? ''
      pushedRefs.push(`${secured.host}/${repository}:c-000000000001`)
      const lines: string[] = []
      const pushed = await pusherFor(address, credential).push({
        localRef: image.ref,
        repository,
        tag: 'c-000000000001',
        onProgress: (line) => lines.push(line),
      })
      expect(pushed.pushed).toBe(true)
      expect(await new RegistryClient(address, credential).manifestDigest(repository, 'c-000000000001')).toBe(
        pushed.digest,
      )
      expect([...lines, JSON.stringify(pushed), inspect(credential)].join('\n')).not.toContain(SENTINEL)
    })

    it('a wrong password: exit 3 naming the registry and `docker login <host>`, the password shown nowhere', async () => {
      const image = await buildImage('wrong', 'refused')
      const address = parseRegistryUrl(secured.host, true)
      const wrong = await testDockerLogin({
        config: {credsStore: 'todo-wrong'},
        helpers: {'todo-wrong': {[secured.host]: {username: 'ci', secret: `${SENTINEL}-wrong`}}},
      })
      try {
        const credential = await new DockerCredentials({
          runner: new ExecaProcessRunner(),
          env: wrong.env,
        }).forRegistry(secured.host)
        const repository = image.ref.split(':')[0] ?? ''
        const error = await refusal(
          pusherFor(address, credential).push({localRef: image.ref, repository, tag: 'c-000000000001'}),
        )
        expect(error.exitCode).toBe(ExitCode.Prerequisite)
        expect(error.message).toBe(
          `registry ${secured.host} refused the Docker credentials while reading the manifest of ${repository}:c-000000000001 (HTTP 401)`,
        )
        expect(error.fix).toBe(`log in: \`docker login ${secured.host}\``)
      } finally {
        await wrong.remove()
      }
    })

    it('the engine refusing the push (no credentials for it) is exit 3 with the fix, too', async () => {
      const image = await buildImage('engine-refused', 'no login')
      const address = parseRegistryUrl(secured.host, true)
      const credential = await credentialFor(secured.host)
      const repository = image.ref.split(':')[0] ?? ''
      pushedRefs.push(`${secured.host}/${repository}:c-000000000001`)
      // The registry check may read, but the engine is given no login: the push itself is refused.
      const error = await refusal(
        pusherFor(address, credential, null).push({localRef: image.ref, repository, tag: 'c-000000000001'}),
      )
      expect(error.exitCode).toBe(ExitCode.Prerequisite)
      expect(error.message).toMatch(new RegExp(`^registry ${secured.host} wants a login while pushing `))
      expect(error.fix).toBe(`log in: \`docker login ${secured.host}\``)
    })

    it('an unreachable registry: exit 3 with the address tried', async () => {
      const image = await buildImage('unreachable', 'nowhere')
      const port = await freePort()
      const address = parseRegistryUrl(`127.0.0.1:${port}`, true)
      const repository = image.ref.split(':')[0] ?? ''
      const error = await refusal(
        pusherFor(address, null).push({localRef: image.ref, repository, tag: 'c-000000000001'}),
      )
      expect(error.exitCode).toBe(ExitCode.Prerequisite)
      const url = `http://127.0.0.1:${port}/v2/${repository}/manifests/c-000000000001`
      expect(error.message).toBe(`registry 127.0.0.1:${port} is not reachable at ${url}: ECONNREFUSED`)
      expect(error.where).toBe(url)
    })
  },
)
