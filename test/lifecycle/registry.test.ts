import {readFileSync} from 'node:fs'
import path from 'node:path'

import {onTestFinished, describe, expect, test} from 'vitest'
import {parse} from 'yaml'

import {isTodoDeployError, type TodoDeployError} from '../../src/lib/errors.js'
import {runDown} from '../../src/lib/lifecycle/down.js'
import {runRollback, type RollbackResult} from '../../src/lib/lifecycle/rollback.js'
import {runUp, type UpOptions, type UpResult} from '../../src/lib/lifecycle/up.js'
import {DOCKER_CONFIG_JSON_TYPE} from '../../src/lib/registry/pull-secret.js'
import {createTestProject, FakeCluster, testSecrets, type TestProject} from '../support/fake-connection.js'
import type {FakeRegistry} from '../support/fakes/fake-registry.js'
import {HOLDER, NAMESPACE, RELEASE, UP_OPTIONS} from '../support/lifecycle-fixtures.js'

const REGISTRY = 'localhost:5000/team'
const PULL_SECRET = 'todo-registry-pull'

interface Setup {
  p: TestProject
  fake: FakeCluster
  registry: FakeRegistry
}

/** A project with registry.url (and a pull Secret unless `pullSecret: false`), on a cluster that runs what helm deployed. */
function setup(options: {pullSecret?: boolean} = {}): Setup {
  const p = createTestProject({
    extraConfig: [
      'registry:',
      `  url: ${REGISTRY}`,
      '  insecure: true',
      ...(options.pullSecret === false ? [] : [`  pullSecret: ${PULL_SECRET}`]),
    ].join('\n'),
  })
  onTestFinished(() => p.remove())
  const fake = new FakeCluster()
  const registry = fake.useRegistry(REGISTRY)
  fake.kubeletFollowsHelm(p.resolved)
  return {p, fake, registry}
}

function up({p, fake}: Setup, overrides: Partial<UpOptions> = {}): Promise<UpResult> {
  return runUp(p.resolved, fake.connection, testSecrets(), {...UP_OPTIONS, ...overrides})
}

function rollback({p, fake}: Setup, revision?: number): Promise<RollbackResult> {
  return runRollback(p.resolved, fake.connection, {
    revision,
    timeoutMs: 300_000,
    holder: HOLDER,
    renderer: 'silent',
  })
}

async function failure(promise: Promise<unknown>): Promise<TodoDeployError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isTodoDeployError(error)) throw new Error(`expected a TodoDeployError, got ${String(error)}`)
  return error
}

interface GeneratedValues {
  frontend: {image: unknown}
  backend: {image: unknown}
  imagePullSecrets: string[]
}

/** The values file the CLI generated from the configuration for the n-th helm upgrade. */
function upgradeValues(fake: FakeCluster, index: number): GeneratedValues {
  const upgrade = fake.helm.upgrades[index]
  if (!upgrade) throw new Error(`no helm upgrade #${index}`)
  return parse(upgrade.valuesFileTexts[0] ?? '') as GeneratedValues
}

describe('up with registry.url', () => {
  test('cold up builds, pushes instead of loading, applies the pull Secret, and deploys the registry images', async () => {
    const s = setup()
    const result = await up(s)
    expect(result.state).toBe('Healthy')
    expect(result.phases.map((phase) => [phase.phase, phase.state])).toEqual([
      ['preflight', 'succeeded'],
      ['build', 'succeeded'],
      ['load', 'skipped'],
      ['push', 'succeeded'],
      ['secret', 'succeeded'],
      ['deploy', 'succeeded'],
      ['rollout', 'succeeded'],
      ['traffic', 'succeeded'],
      ['verify', 'succeeded'],
    ])
    expect(result.phases.find((phase) => phase.phase === 'load')?.skipReason).toBe(
      'images reach the cluster from localhost:5000',
    )
    expect(s.fake.cluster.loads).toEqual([])
    const tags = result.images.map((image) => image.tag)
    expect(s.fake.log.named('registry.push').map((call) => call.args)).toEqual([
      [`todo-frontend:${tags[0]}`, 'todo-frontend', tags[0]],
      [`todo-backend:${tags[1]}`, 'todo-backend', tags[1]],
    ])
    expect(result.images.map((image) => [image.ref, image.pushed])).toEqual([
      [`localhost:5000/team/todo-frontend:${tags[0]}`, true],
      [`localhost:5000/team/todo-backend:${tags[1]}`, true],
    ])
    expect([...s.registry.tags.keys()].sort()).toEqual([
      `localhost:5000/team/todo-backend:${tags[1]}`,
      `localhost:5000/team/todo-frontend:${tags[0]}`,
    ])

    const values = upgradeValues(s.fake, 0)
    expect(values.frontend.image).toEqual({
      repository: 'localhost:5000/team/todo-frontend',
      pullPolicy: 'IfNotPresent',
    })
    expect(values.backend.image).toEqual({
      repository: 'localhost:5000/team/todo-backend',
      pullPolicy: 'IfNotPresent',
    })
    expect(values.imagePullSecrets).toEqual([PULL_SECRET])

    const pull = s.fake.secrets.secrets.get(`${NAMESPACE}/${PULL_SECRET}`)
    expect(pull).toMatchObject({
      type: DOCKER_CONFIG_JSON_TYPE,
      registry: 'localhost:5000',
      keys: ['.dockerconfigjson'],
      labels: {'app.kubernetes.io/instance': RELEASE},
    })
    // The pull Secret is applied before helm, so the first pods can already pull.
    const names = s.fake.log.names()
    expect(names.indexOf('secrets.applyPullSecret')).toBeLessThan(names.indexOf('helm.upgradeInstall'))
  })

  test('a second up with nothing changed pushes nothing: the registry has each tag with the same digest, and says so', async () => {
    const s = setup()
    await up(s)
    const again = await up(s)
    expect(s.fake.log.count('registry.push')).toBe(2)
    for (const service of again.plan?.services ?? []) {
      expect(service.push.action).toBe('skip')
      expect(service.push.reason).toMatch(
        new RegExp(
          `^${service.ref.replaceAll('.', '\\.')} is already in localhost:5000 with the same digest sha256:[0-9a-f]{64}$`,
        ),
      )
    }
    expect(again.phases.find((phase) => phase.phase === 'push')?.state).toBe('skipped')
    expect(again.helm.action).toBe('skipped')
  })

  test('a changed source is pushed again under its new content tag; the other service is not', async () => {
    const s = setup()
    await up(s)
    s.p.write('backend/app/health', 'ok v2\n')
    const changed = await up(s)
    expect(changed.plan?.services.map((service) => [service.service, service.push.action])).toEqual([
      ['frontend', 'skip'],
      ['backend', 'push'],
    ])
    expect(changed.plan?.services[1]?.push.reason).toMatch(
      /^registry localhost:5000 has no localhost:5000\/team\/todo-backend:c-/,
    )
    expect(s.fake.log.count('registry.push')).toBe(3)
  })

  test('--dry-run plans the pushes and changes nothing: no push, no Secret, no helm', async () => {
    const s = setup()
    const result = await up(s, {dryRun: true})
    expect(
      result.plan?.services.map((service) => [service.service, service.push.action, service.load.action]),
    ).toEqual([
      ['frontend', 'push', 'skip'],
      ['backend', 'push', 'skip'],
    ])
    expect(result.manifests).toContain('image: "localhost:5000/team/todo-frontend:')
    expect(result.manifests).toContain(`- name: ${PULL_SECRET}`)
    expect(s.fake.log.count('registry.push') + s.fake.secrets.applyCount + s.fake.helm.upgrades.length).toBe(
      0,
    )
  })

  test('registry.pullSecret without a Docker login for the registry: exit 3 naming `docker login`, before helm', async () => {
    const s = setup()
    s.registry.login = null
    const error = await failure(up(s))
    expect(error.exitCode).toBe(3)
    expect(error.message).toBe(
      'registry.pullSecret is set, but the Docker config has no login for localhost:5000 to put in it',
    )
    expect(error.fix).toContain('docker login localhost:5000')
    expect(s.fake.helm.upgrades).toHaveLength(0)
  })

  test('without registry.pullSecret no pull Secret is made and the chart names none', async () => {
    const s = setup({pullSecret: false})
    await up(s)
    expect(s.fake.log.count('secrets.applyPullSecret')).toBe(0)
    expect(s.fake.log.count('registry.credential')).toBe(0)
    expect(upgradeValues(s.fake, 0).imagePullSecrets).toEqual([])
  })
})

describe('rollback and down with registry.url', () => {
  async function twoRevisions(s: Setup): Promise<string[]> {
    const first = await up(s)
    s.p.write('backend/app/health', 'ok v2\n')
    await up(s)
    return [first.images[1]!.ref]
  }

  test('a rollback to a revision whose tag is gone from the registry says so, exit 2, and does not touch the release', async () => {
    const s = setup()
    const [oldBackend] = await twoRevisions(s)
    s.registry.tags.delete(oldBackend!)
    const error = await failure(rollback(s, 1))
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(
      `revision 1 runs ${oldBackend}, which registry localhost:5000 no longer has; the release was not touched`,
    )
    expect(error.fix).toContain('todo-deploy up')
    expect(s.fake.helm.rollbacks).toEqual([])
    expect(s.fake.lock.acquired).toBe(2)
  })

  test('a rollback whose tags are in the registry loads nothing and returns to the old revision', async () => {
    const s = setup()
    await twoRevisions(s)
    const result = await rollback(s, 1)
    expect(result.state).toBe('Healthy')
    expect(result.phases.find((phase) => phase.phase === 'load')).toMatchObject({
      state: 'skipped',
      skipReason: 'the nodes pull its images from localhost:5000 (each tag checked there)',
    })
    expect(s.fake.cluster.loads).toEqual([])
    expect(s.fake.helm.rollbacks).toEqual([{release: RELEASE, revision: 1, namespace: NAMESPACE}])
  })

  /** Rewrites the project's registry.url (or removes the registry section when null). */
  function switchRegistry(s: Setup, url: string | null): void {
    const config = readFileSync(path.join(s.p.dir, 'todo-deploy.yaml'), 'utf8')
    const base = config.slice(0, config.indexOf('registry:'))
    s.p.write(
      'todo-deploy.yaml',
      url === null
        ? base
        : `${base}registry:\n  url: ${url}\n  insecure: true\n  pullSecret: ${PULL_SECRET}\n`,
    )
    if (url !== null) s.fake.connection.registry = s.fake.registryAt(url)
    else delete s.fake.connection.registry
  }

  test("registry.url changed since: each image is looked up in the registry its revision's reference names", async () => {
    const s = setup()
    const [oldBackend] = await twoRevisions(s)
    expect(oldBackend).toMatch(/^localhost:5000\/team\/todo-backend:/)
    switchRegistry(s, '127.0.0.1:5001/other')
    // The old registry lost the tag; the new one never had it either way.
    s.registry.tags.delete(oldBackend!)
    const error = await failure(rollback(s, 1))
    expect(error.message).toBe(
      `revision 1 runs ${oldBackend}, which registry localhost:5000 no longer has; the release was not touched`,
    )
    expect(s.fake.log.named('registry.manifestDigest').map((call) => call.args[0])).toEqual([
      'localhost:5000',
      'localhost:5000',
    ])
    expect(s.fake.helm.rollbacks).toEqual([])
  })

  test('registry.url changed since, and the old registry still has the tags: the rollback goes ahead', async () => {
    const s = setup()
    await twoRevisions(s)
    switchRegistry(s, '127.0.0.1:5001/other')
    const result = await rollback(s, 1)
    expect(result.state).toBe('Healthy')
    expect(result.phases.find((phase) => phase.phase === 'load')).toMatchObject({
      state: 'skipped',
      skipReason: 'the nodes pull its images from localhost:5000 (each tag checked there)',
    })
    expect(s.fake.helm.rollbacks).toEqual([{release: RELEASE, revision: 1, namespace: NAMESPACE}])
  })

  /** Revision 1 of loaded images (no registry), then registry.url set and revision 2 pushed there. */
  async function loadedThenRegistry(): Promise<Setup> {
    const p = createTestProject()
    onTestFinished(() => p.remove())
    const fake = new FakeCluster()
    fake.kubeletFollowsHelm(p.resolved)
    const s: Setup = {p, fake, registry: fake.registryAt(REGISTRY)}
    await up(s)
    s.p.write(
      'todo-deploy.yaml',
      `${readFileSync(path.join(p.dir, 'todo-deploy.yaml'), 'utf8')}\nregistry:\n  url: ${REGISTRY}\n  insecure: true\n`,
    )
    s.fake.connection.registry = s.registry
    s.p.write('backend/app/health', 'ok v2\n')
    await up(s)
    return s
  }

  test('a revision of loaded images (no registry) is not looked up in a registry: its images are loaded into the local cluster', async () => {
    const s = await loadedThenRegistry()
    s.fake.cluster.images.clear()
    const result = await rollback(s, 1)
    expect(result.state).toBe('Healthy')
    expect(s.fake.log.count('registry.manifestDigest')).toBe(0)
    expect(result.reloadedImages.sort()).toEqual(
      [`todo-backend:${result.tags.backend}`, `todo-frontend:${result.tags.frontend}`].sort(),
    )
  })

  test('on a remote cluster, a revision of loaded images is refused up front: its nodes cannot get them', async () => {
    const s = await loadedThenRegistry()
    s.fake.asRemoteWithoutAddress()
    const error = await failure(rollback(s, 1))
    expect(error.exitCode).toBe(2)
    expect(error.message).toMatch(
      /^revision 1 runs todo-frontend:\S+, todo-backend:\S+, loaded into a local cluster and never pushed to a registry: the nodes of a remote cluster cannot get them; the release was not touched$/,
    )
    expect(s.fake.helm.rollbacks).toEqual([])
  })

  test('down --purge deletes the pull Secret and asks the registry nothing', async () => {
    const s = setup()
    await up(s)
    // The pods terminate a moment after `helm uninstall`.
    s.fake.log.onCall = (name) => {
      if (name === 'workloads.watch')
        setTimeout(() => s.fake.workloads.publish({deployments: [], pods: [], services: []}), 5)
    }
    const before = s.fake.log.calls.length
    const tagsBefore = new Map(s.registry.tags)
    const result = await runDown(s.p.resolved, s.fake.connection, {
      purge: true,
      keep: 0,
      timeoutMs: 120_000,
      holder: HOLDER,
      renderer: 'silent',
    })
    expect(result.purged?.pullSecret).toBe(true)
    const downCalls = s.fake.log.calls.slice(before).map((call) => call.name)
    expect(downCalls).toContain('secrets.deleteSecret')
    expect(downCalls.filter((name) => name.startsWith('registry.'))).toEqual([])
    expect(s.registry.tags).toEqual(tagsBefore)
  })
})
