import {captureOutput} from '@oclif/test'
import {afterEach, beforeEach, describe, expect, test, vi} from 'vitest'

import {runDown} from '../../src/lib/lifecycle/down.js'
import {runRollback} from '../../src/lib/lifecycle/rollback.js'
import {runUp, type UpOptions, type UpResult} from '../../src/lib/lifecycle/up.js'
import {NODE_IMAGE_LIST_REFRESH_MS} from '../support/fakes/cluster-lags.js'
import {FakeCluster, HOLDER, testSecrets, type TestProject} from '../support/fake-connection.js'
import {tempProject, UP_OPTIONS} from '../support/lifecycle-fixtures.js'

// Simulated time: the node's status.images shows a load or a removal only a kubelet refresh later
// (FakeNodeReader), while the runtime's own list (`minikube image ls`, FakeClusterTarget) is current.
beforeEach(() => {
  vi.useFakeTimers({toFake: ['Date']})
})
afterEach(() => {
  vi.useRealTimers()
})

function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms)
}

/** A project and a cluster whose pods run what helm deployed last, and need their images in the runtime. */
function setup(): {p: TestProject; fake: FakeCluster} {
  const p = tempProject()
  const fake = new FakeCluster()
  fake.kubeletFollowsHelm(p.resolved)
  // `down` waits for the pods: they go a moment after `helm uninstall`.
  fake.log.onCall = (name) => {
    if (name === 'workloads.watch')
      setTimeout(() => fake.workloads.publish({deployments: [], pods: [], services: []}), 5)
  }
  return {p, fake}
}

function up(p: TestProject, fake: FakeCluster, overrides: Partial<UpOptions> = {}): Promise<UpResult> {
  return runUp(p.resolved, fake.connection, testSecrets(), {...UP_OPTIONS, ...overrides})
}

/** `down --purge`, whose namespace stays Terminating for a few simulated seconds: the clock moves while it waits. */
async function purge(p: TestProject, fake: FakeCluster) {
  const ticking = setInterval(() => advance(250), 5)
  try {
    return await runDown(p.resolved, fake.connection, {
      purge: true,
      keep: 0,
      timeoutMs: 120_000,
      holder: HOLDER,
      renderer: 'silent',
    })
  } finally {
    clearInterval(ticking)
  }
}

function rollback(p: TestProject, fake: FakeCluster) {
  return runRollback(p.resolved, fake.connection, {timeoutMs: 300_000, holder: HOLDER, renderer: 'silent'})
}

/** Deployed, and long enough ago that the node lists its images. */
async function deployedAndListed(p: TestProject, fake: FakeCluster): Promise<UpResult> {
  const result = await up(p, fake)
  expect(result.state).toBe('Healthy')
  advance(NODE_IMAGE_LIST_REFRESH_MS.max + 1_000)
  const listed = (await fake.nodes.read())?.nodes[0]?.images ?? []
  expect(listed).toEqual(
    expect.arrayContaining(result.images.map((image) => `docker.io/library/${image.ref}`)),
  )
  return result
}

describe('down --purge, then up at once (issue 19, fault 3)', () => {
  test('the node still lists the purged images: up asks the cluster, loads them again, and the app runs', async () => {
    const {p, fake} = setup()
    const first = await deployedAndListed(p, fake)
    const refs = first.images.map((image) => image.ref)

    const purged = await purge(p, fake)
    expect(purged.purged?.clusterImages.sort()).toEqual([...refs].sort())
    advance(1_000)
    // The stale state the plan meets: the node lists what the runtime no longer has.
    const listed = (await fake.nodes.read())?.nodes[0]?.images ?? []
    expect(listed).toEqual(expect.arrayContaining(refs.map((ref) => `docker.io/library/${ref}`)))
    expect(refs.filter((ref) => fake.cluster.images.has(ref))).toEqual([])

    const again = await up(p, fake)

    expect(again.state).toBe('Healthy')
    expect(again.images.map((image) => [image.ref, image.built, image.loaded])).toEqual(
      refs.map((ref) => [ref, true, true]),
    )
    expect(again.plan?.services.map((service) => service.load)).toEqual(
      again.plan?.services.map(() => expect.objectContaining({action: 'load', listedOn: ['minikube']})),
    )
    for (const ref of refs) expect(fake.cluster.images.has(ref)).toBe(true)
  })

  test('once the deployed revision runs an image the node lists, a no-change up trusts the list', async () => {
    const {p, fake} = setup()
    const first = await deployedAndListed(p, fake)

    const again = await up(p, fake)

    expect(again.state).toBe('Healthy')
    expect(again.images.map((image) => image.loadSkipReason)).toEqual(
      first.images.map(() => 'listed on node minikube, and revision 1 runs it'),
    )
    expect(fake.log.count('cluster.loadImage')).toBe(first.images.length)
  })
})

describe('an image the plan did not load is missing after all: loaded once, the rollout goes on', () => {
  test('a pod meets ErrImageNeverPull for it: up loads it, says so on one line, and ends Healthy', async () => {
    const {p, fake} = setup()
    const first = await deployedAndListed(p, fake)
    const backend = first.images.find((image) => image.service === 'backend')!.ref
    // Removed by hand (`minikube image rm`): the node's list will show it for a while yet.
    fake.cluster.images.delete(backend)
    advance(1_000)

    let result: UpResult | undefined
    const output = await captureOutput(
      async () => {
        result = await up(p, fake, {set: ['backend.replicaCount=2'], renderer: 'simple'})
      },
      {stripAnsi: true},
    )

    expect(output.error).toBeUndefined()
    expect(result?.state).toBe('Healthy')
    expect(result?.plan?.services.find((service) => service.service === 'backend')?.load.action).toBe('skip')
    const said = `${output.stdout}${output.stderr}`
      .split('\n')
      .filter((line) => line.includes('the node did not have'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain(`backend: the node did not have ${backend}; loaded it`)
    expect(fake.cluster.images.has(backend)).toBe(true)
    expect(fake.rollout.requests.at(-1)?.loadedImages).toEqual([backend])
    expect(result?.images.find((image) => image.service === 'backend')?.loaded).toBe(true)
  })

  test('bounded: an image that stays missing after its load fails the rollout, loaded only once', async () => {
    const {p, fake} = setup()
    const first = await deployedAndListed(p, fake)
    const backend = first.images.find((image) => image.service === 'backend')!.ref
    fake.cluster.images.delete(backend)
    // The runtime drops the image again at once (a full disk's garbage collection, say).
    const load = fake.cluster.loadImage.bind(fake.cluster)
    fake.cluster.loadImage = async (ref, options) => {
      const outcome = await load(ref, options)
      fake.cluster.images.delete(ref)
      return outcome
    }
    advance(1_000)

    const error = await up(p, fake, {set: ['backend.replicaCount=2']}).then(
      () => undefined,
      (caught: unknown) => caught as Error & {exitCode?: number},
    )

    expect(error?.exitCode).toBe(5)
    expect(error?.message).toContain('ErrImageNeverPull')
    expect(fake.cluster.loads.filter((ref) => ref === backend)).toHaveLength(2)
    expect(fake.rollout.requests.filter((request) => request.loadedImages?.includes(backend))).toHaveLength(1)
  })
})

describe('down --purge, up, change the page, up, rollback (issue 19, fault 5)', () => {
  test('the rollback finds revision 1 image in the runtime and the engine, whatever the node lists', async () => {
    const {p, fake} = setup()
    await deployedAndListed(p, fake)
    await purge(p, fake)
    advance(1_000)

    const v1 = await up(p, fake)
    expect(v1.state).toBe('Healthy')
    advance(5_000)
    p.write('frontend/app/index.html', '<h1>todo v2</h1>\n')
    const v2 = await up(p, fake)
    expect(v2.state).toBe('Healthy')
    advance(5_000)

    const back = await rollback(p, fake)

    expect(back.state).toBe('Healthy')
    expect(back.toRevision).toBe(1)
    const frontendV1 = v1.images.find((image) => image.service === 'frontend')!.ref
    expect(`todo-frontend:${back.tags.frontend}`).toBe(frontendV1)
    expect(fake.cluster.images.has(frontendV1)).toBe(true)
  })
})

describe('rollback decides on the runtime and the engine, never on the node list', () => {
  test('an image the node still lists but the runtime lost is loaded again before helm rolls back', async () => {
    const {p, fake} = setup()
    const v1 = await deployedAndListed(p, fake)
    p.write('frontend/app/index.html', '<h1>todo v2</h1>\n')
    expect((await up(p, fake)).state).toBe('Healthy')
    const frontendV1 = v1.images.find((image) => image.service === 'frontend')!.ref
    fake.cluster.images.delete(frontendV1)
    advance(1_000)
    expect((await fake.nodes.read())?.nodes[0]?.images).toContain(`docker.io/library/${frontendV1}`)

    const back = await rollback(p, fake)

    expect(back.state).toBe('Healthy')
    expect(back.reloadedImages).toEqual([frontendV1])
    expect(fake.cluster.images.has(frontendV1)).toBe(true)
  })

  test('an image the runtime has but the node does not list yet, and the engine lost, is used as it is', async () => {
    const {p, fake} = setup()
    const v1 = await up(p, fake)
    p.write('frontend/app/index.html', '<h1>todo v2</h1>\n')
    expect((await up(p, fake)).state).toBe('Healthy')
    const frontendV1 = v1.images.find((image) => image.service === 'frontend')!.ref
    fake.engine.images.delete(frontendV1)
    expect((await fake.nodes.read())?.nodes[0]?.images).not.toContain(`docker.io/library/${frontendV1}`)

    const back = await rollback(p, fake)

    expect(back.state).toBe('Healthy')
    expect(back.reloadedImages).toEqual([])
    expect(back.toRevision).toBe(1)
  })
})
