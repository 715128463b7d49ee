import {readFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, onTestFinished, test, vi} from 'vitest'
import {parse} from 'yaml'

import {useDependencies} from '../../src/cli/dependencies.js'
import Up from '../../src/commands/up.js'
import {dockerFromEnv} from '../../src/lib/image/docker-engine.js'
import {DockerImageBuilder} from '../../src/lib/image/image-builder.js'
import type {UpResult} from '../../src/lib/lifecycle/up.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import {DockerCredentials} from '../../src/lib/registry/docker-credentials.js'
import {DockerConfigRegistry} from '../../src/lib/registry/image-registry.js'
import {pullSecretBody, type PullSecretRequest} from '../../src/lib/registry/pull-secret.js'
import {parseRegistryUrl} from '../../src/lib/registry/registry-address.js'
import {RegistryClient} from '../../src/lib/registry/registry-client.js'
import {BUSYBOX, removeTestImages, testDocker, testRepository} from '../support/docker-fixtures.js'
import {testDockerLogin, type TestDockerLogin} from '../support/docker-login.js'
import {createTestProject, FakeCluster, TEST_SECRET_NAMES} from '../support/fake-connection.js'
import {dockerAvailable, dockerSocket, inCI} from '../support/real-components.js'
import {registryAvailable, startRegistry, type RunningRegistry} from '../support/registry-server.js'
import {runCommand} from '../support/run-command.js'

/** The registry password; every credential and app secret of this test starts with it. */
const SENTINEL = 'test-secret-value'
const PASSWORD = `${SENTINEL}-registry-password`
const PULL_SECRET = 'todo-registry-pull'
const engineEnv = {DOCKER_HOST: `unix://${dockerSocket}`}

// Under CI these must run: a missing docker-registry or Docker Engine fails them instead of skipping.
describe.skipIf(!(dockerAvailable && registryAvailable) && !inCI)(
  'todo-deploy up with the real Docker Engine and a real registry with htpasswd auth (cluster side in memory)',
  () => {
    let registry: RunningRegistry
    let login: TestDockerLogin
    const repositories = {frontend: testRepository('up-frontend'), backend: testRepository('up-backend')}

    beforeAll(async () => {
      registry = await startRegistry({login: {username: 'ci', password: PASSWORD}})
      login = await testDockerLogin({
        config: {credHelpers: {[registry.host]: 'todo-up-test'}},
        helpers: {'todo-up-test': {[registry.host]: {username: 'ci', secret: PASSWORD}}},
      })
    })

    afterAll(async () => {
      const docker = testDocker()
      const images = await docker.listImages()
      for (const image of images)
        for (const tag of image.RepoTags ?? [])
          if (tag.startsWith(`${registry?.host}/team/`))
            await docker
              .getImage(tag)
              .remove({force: true})
              .catch(() => undefined)
      for (const repository of Object.values(repositories)) await removeTestImages(repository)
      await registry?.stop()
      await login?.remove()
    })

    test('first up pushes both images, the second skips both (same digest); Helm values name the registry references with IfNotPresent and the pull Secret; no credential anywhere', async () => {
      const busybox = readFileSync(BUSYBOX)
      const p = createTestProject({
        files: {'frontend/busybox': busybox, 'backend/busybox': busybox},
        frontend: [`image: {repository: ${repositories.frontend}}`],
        // Indented: the first line still belongs to services.backend.
        extraConfig: [
          `    image: {repository: ${repositories.backend}}`,
          'registry:',
          `  url: ${registry.host}/team`,
          '  insecure: true',
          `  pullSecret: ${PULL_SECRET}`,
        ].join('\n'),
      })
      onTestFinished(() => p.remove())
      const fake = new FakeCluster({images: new DockerImageBuilder(dockerFromEnv(engineEnv))})
      fake.kubeletFollowsHelm(p.resolved)
      fake.connection.registry = new DockerConfigRegistry(
        parseRegistryUrl(`${registry.host}/team`, true),
        new DockerCredentials({runner: new ExecaProcessRunner(), env: login.env}),
        engineEnv,
      )
      const pullSecrets: PullSecretRequest[] = []
      const applyPullSecret = fake.secrets.applyPullSecret.bind(fake.secrets)
      fake.secrets.applyPullSecret = (request) => {
        pullSecrets.push(request)
        return applyPullSecret(request)
      }
      const restore = useDependencies({connect: () => fake.connect()})
      onTestFinished(restore)
      vi.stubEnv('NO_COLOR', '1')
      for (const name of TEST_SECRET_NAMES) vi.stubEnv(name, `${SENTINEL}-${name}`)
      onTestFinished(() => {
        vi.unstubAllEnvs()
      })

      // --verbose: every progress line (one per layer) is printed.
      const first = await runCommand<UpResult>(Up, ['--verbose'], {cwd: p.dir})
      expect(first.exitCode, first.stderr).toBe(0)
      const cold = first.result!
      const expectedRefs = (['frontend', 'backend'] as const).map(
        (service, index) => `${registry.host}/team/${repositories[service]}:${cold.images[index]!.tag}`,
      )
      expect(cold.images.map((image) => [image.ref, image.pushed])).toEqual([
        [expectedRefs[0], true],
        [expectedRefs[1], true],
      ])
      // Built in BuildKit: a first build of each folder sends every context file, and says so.
      for (const image of cold.images) {
        expect(image.contextSent?.files).toBeGreaterThan(0)
        expect(image.contextSent?.files).toBe(image.contextSent?.of)
      }
      expect(first.stdout).toMatch(/context: sent all \d+ files the build reads \(.+\)/)
      // The registry itself holds each content tag with the digest up reported.
      const client = new RegistryClient(
        parseRegistryUrl(`${registry.host}/team`, true),
        await new DockerCredentials({runner: new ExecaProcessRunner(), env: login.env}).forRegistry(
          registry.host,
        ),
      )
      for (const [index, service] of (['frontend', 'backend'] as const).entries()) {
        const image = cold.images[index]!
        expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
        expect(await client.manifestDigest(`team/${repositories[service]}`, image.tag)).toBe(image.digest)
      }
      expect(`${first.stdout}${first.stderr}`).toMatch(/layer [0-9a-f]+: pushed/)

      const upgrade = fake.helm.upgrades[0]!
      const values = parse(upgrade.valuesFileTexts[0] ?? '') as {
        frontend: {image: unknown}
        backend: {image: unknown}
        imagePullSecrets: string[]
      }
      expect(values.frontend.image).toEqual({
        repository: `${registry.host}/team/${repositories.frontend}`,
        pullPolicy: 'IfNotPresent',
      })
      expect(values.backend.image).toEqual({
        repository: `${registry.host}/team/${repositories.backend}`,
        pullPolicy: 'IfNotPresent',
      })
      expect(values.imagePullSecrets).toEqual([PULL_SECRET])
      // The pull Secret holds the helper's login for this one registry, and only that.
      expect(pullSecrets).toHaveLength(1)
      const body = pullSecretBody(pullSecrets[0]!)
      const dockerConfig = JSON.parse(
        Buffer.from(body.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8'),
      ) as {auths: Record<string, {username: string; password: string}>}
      expect(Object.keys(dockerConfig.auths)).toEqual([registry.host])
      expect(dockerConfig.auths[registry.host]).toMatchObject({username: 'ci', password: PASSWORD})

      const second = await runCommand<UpResult>(Up, ['--verbose'], {cwd: p.dir})
      expect(second.exitCode, second.stderr).toBe(0)
      const warm = second.result!
      expect(warm.images.map((image) => [image.ref, image.pushed, image.digest])).toEqual(
        cold.images.map((image) => [image.ref, false, image.digest]),
      )
      for (const image of warm.images)
        expect(image.pushSkipReason).toBe(
          `${image.ref} is already in ${registry.host} with the same digest ${image.digest}`,
        )
      expect(fake.helm.upgrades).toHaveLength(1)

      // No credential (nor app secret) in what was printed, the Helm values or the state record.
      const helmInputs = fake.helm.upgrades.map((entry) =>
        JSON.stringify({
          values: entry.valuesFileTexts,
          setString: entry.request.setString,
          set: entry.request.set,
        }),
      )
      const record = JSON.stringify(
        await fake.state.read(p.resolved.config.namespace, p.resolved.config.release),
      )
      expect(record).toContain('"command":"up"')
      for (const text of [
        first.stdout,
        first.stderr,
        second.stdout,
        second.stderr,
        JSON.stringify(cold),
        JSON.stringify(warm),
        ...helmInputs,
        record,
      ])
        expect(text).not.toContain(SENTINEL)
    })
  },
)
