import {randomUUID} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import type {Readable} from 'node:stream'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {dockerFromEnv} from '../../src/lib/image/docker-engine.js'
import {DockerImageBuilder} from '../../src/lib/image/image-builder.js'
import {BuildError} from '../../src/lib/errors.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import {DockerCredentials} from '../../src/lib/registry/docker-credentials.js'
import {
  busyboxContext,
  removeDir,
  removeTestImages,
  testDocker,
  testRepository,
} from '../support/docker-fixtures.js'
import {testDockerLogin, type TestDockerLogin} from '../support/docker-login.js'
import {dockerAvailable, dockerSocket, inCI} from '../support/real-components.js'
import {registryAvailable, startRegistry, type RunningRegistry} from '../support/registry-server.js'

const PASSWORD = 'test-secret-value-base-image'
const nonce = randomUUID()
const engineEnv = {DOCKER_HOST: `unix://${dockerSocket}`}

async function drain(stream: Readable): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += String(chunk)
  return text
}

// Under CI these must run: a missing docker-registry or Docker Engine fails them instead of skipping.
describe.skipIf(!(dockerAvailable && registryAvailable) && !inCI)(
  'a build FROM a private base image, on the real engine and a real registry with htpasswd auth',
  () => {
    let registry: RunningRegistry
    let login: TestDockerLogin
    let base = ''
    const dirs: string[] = []
    const repositories: string[] = []

    beforeAll(async () => {
      registry = await startRegistry({login: {username: 'ci', password: PASSWORD}})
      login = await testDockerLogin({
        config: {credHelpers: {[registry.host]: 'todo-base-test'}},
        helpers: {'todo-base-test': {[registry.host]: {username: 'ci', secret: PASSWORD}}},
      })
      // The base image exists only in the registry: built, pushed with the login, removed locally.
      base = `${registry.host}/team/${testRepository('base')}:1`
      const dir = await busyboxContext({Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\n'})
      dirs.push(dir)
      const local = new DockerImageBuilder(dockerFromEnv(engineEnv))
      const [repository, tag] = [base.slice(0, base.lastIndexOf(':')), '1']
      await local.build({
        context: await BuildContext.scan(dir, path.join(dir, 'Dockerfile')),
        dockerfileText: await readFile(path.join(dir, 'Dockerfile'), 'utf8'),
        dockerfilePath: path.join(dir, 'Dockerfile'),
        repository,
        tag,
      })
      const docker = testDocker()
      const pushed = await drain(
        (await docker.getImage(base).push({
          authconfig: {username: 'ci', password: PASSWORD, serveraddress: registry.host},
        })) as Readable,
      )
      expect(pushed).not.toContain('"error"')
      await docker.getImage(base).remove({force: true})
      await docker.getImage(`${repository}:latest`).remove({force: true})
    })

    afterAll(async () => {
      for (const repository of repositories) await removeTestImages(repository)
      await registry?.stop()
      await login?.remove()
      await Promise.all(dirs.map(removeDir))
    })

    async function buildFromBase(
      builder: DockerImageBuilder,
    ): Promise<{lines: string[]; outcome: Promise<unknown>}> {
      const dir = await busyboxContext({
        // A new line each run: the RUN step never comes from a build cache.
        Dockerfile: `FROM ${base}\nRUN ["/bin/busybox", "echo", "built on the private base ${nonce}"]\n`,
      })
      dirs.push(dir)
      const repository = testRepository('on-private-base')
      repositories.push(repository)
      const lines: string[] = []
      const outcome = builder.build(
        {
          context: await BuildContext.scan(dir, path.join(dir, 'Dockerfile')),
          dockerfileText: await readFile(path.join(dir, 'Dockerfile'), 'utf8'),
          dockerfilePath: path.join(dir, 'Dockerfile'),
          repository,
          tag: 'c-000000000001',
        },
        (line) => lines.push(line),
      )
      return {lines, outcome}
    }

    const builders: [string, Record<string, string>][] = [
      ['BuildKit', {}],
      ['the classic builder', {DOCKER_BUILDKIT: '0'}],
    ]

    it.each(builders)(
      'pulls the base image in %s with the login docker login stored (a credential helper), never showing it',
      async (_builder, builderEnv) => {
        const logins = new DockerCredentials({runner: new ExecaProcessRunner(), env: login.env})
        const builder = new DockerImageBuilder(dockerFromEnv({...engineEnv, ...builderEnv}), {
          credentials: async (host) => (await logins.forRegistry(host))?.forBuild() ?? null,
        })
        const {lines, outcome} = await buildFromBase(builder)
        await expect(outcome).resolves.toMatchObject({ref: expect.stringContaining(':c-000000000001')})
        expect(lines).toContain(`built on the private base ${nonce}`)
        expect(lines.join('\n')).not.toContain(PASSWORD)
        // Pulled, not found locally: the classic builder leaves the base in the engine, BuildKit may too.
        await testDocker()
          .getImage(base)
          .remove({force: true})
          .catch(() => undefined)
      },
    )

    it.each(builders)(
      'fails the build in %s, naming the base image, without a login',
      async (_builder, builderEnv) => {
        const builder = new DockerImageBuilder(dockerFromEnv({...engineEnv, ...builderEnv}))
        const {outcome} = await buildFromBase(builder)
        const error = await outcome.catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(BuildError)
        expect((error as BuildError).message).toContain(base.slice(0, base.lastIndexOf(':')))
        expect((error as BuildError).message).toMatch(
          /401 Unauthorized|no basic auth credentials|unauthorized/,
        )
      },
    )

    it.each(builders)(
      'goes on anonymously in %s when the credential helper fails, and says so',
      async (_builder, builderEnv) => {
        const builder = new DockerImageBuilder(dockerFromEnv({...engineEnv, ...builderEnv}), {
          credentials: async () => {
            throw new Error('docker-credential-gone is not installed')
          },
        })
        const {lines, outcome} = await buildFromBase(builder)
        const error = await outcome.catch((caught: unknown) => caught)
        // The registry's own refusal, not the helper's: a public base image would have been pulled.
        expect((error as BuildError).message).toMatch(
          /401 Unauthorized|no basic auth credentials|unauthorized/,
        )
        expect(lines).toContain(
          `no Docker login for ${registry.host} (docker-credential-gone is not installed): pulling its images anonymously`,
        )
      },
    )
  },
)
