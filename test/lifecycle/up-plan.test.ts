import {afterAll, describe, expect, test} from 'vitest'

import type {ServiceImagePlan} from '../../src/lib/image/service-image.js'
import type {ImageLoadStrategy} from '../../src/lib/cluster/image-load-strategy.js'
import {BadInputError} from '../../src/lib/errors.js'
import type {ReleaseInfo, ReleaseRevision, ReleaseStatus} from '../../src/lib/helm/helm-client.js'
import {inspectRelease} from '../../src/lib/helm/release-state.js'
import {planUp, type UpObservation, type UpRequest} from '../../src/lib/lifecycle/up/plan.js'
import {createTestProject} from '../support/fake-connection.js'

// planUp is pure: a project only supplies a resolved configuration (the built-in defaults).
const project = createTestProject()
afterAll(() => project.remove())
const resolved = project.resolved

const CLUSTER = 'minikube profile "minikube"'
const FRONTEND = 'c-aaaaaaaaaaaa'
const BACKEND = 'c-bbbbbbbbbbbb'

function image(repository: string, tag: string, exists: boolean): ServiceImagePlan {
  return {
    contentTag: tag,
    ref: `${repository}:${tag}`,
    exists,
    ...(exists ? {imageId: `sha256:${tag}`} : {}),
  } as ServiceImagePlan
}

function revision(number: number, status: ReleaseStatus): ReleaseRevision {
  return {
    revision: number,
    status,
    updated: new Date(0),
    chart: 'todo-chatbot-1.0.0',
    appVersion: '1',
    description: '',
  }
}

/** The values helm stores for a revision up deployed with these tags and digest. */
function deployedValues(
  tags: {frontend?: string; backend?: string},
  digest?: string,
): Record<string, unknown> {
  return {
    frontend: tags.frontend ? {image: {tag: tags.frontend}} : {},
    backend: tags.backend ? {image: {tag: tags.backend}} : {},
    ...(digest ? {todoDeploy: {digest}} : {}),
  }
}

interface Observed {
  /** Statuses of the release's history, oldest first; the newest is what `helm status` shows. */
  history?: ReleaseStatus[]
  config?: Record<string, unknown>
  exists?: {frontend?: boolean; backend?: boolean}
  imageLoad?: ImageLoadStrategy
  checksum?: string
  /** Image names the node lists (status.images). */
  nodeImages?: string[]
}

function observed(o: Observed = {}): UpObservation {
  const history = (o.history ?? []).map((status, index) => revision(index + 1, status))
  const current = history.at(-1)
  const release: ReleaseInfo | null = current
    ? {
        name: 'todo-chatbot',
        namespace: 'todo-app-dev',
        revision: current.revision,
        status: current.status,
        description: '',
        config: o.config ?? {},
        manifest: '',
      }
    : null
  return {
    cluster: CLUSTER,
    helmVersion: 'v3.17.2',
    release,
    inspection: inspectRelease(history),
    imageLoad: o.imageLoad ?? 'load',
    nodes: o.nodeImages
      ? {nodes: [{name: 'minikube', uid: 'u', bootId: 'b', ready: true, images: o.nodeImages}]}
      : null,
    images: {
      frontend: image('todo-frontend', FRONTEND, o.exists?.frontend ?? false),
      backend: image('todo-backend', BACKEND, o.exists?.backend ?? false),
    },
    sources: {
      chartFiles: [{path: 'Chart.yaml', bytes: Buffer.from('name: todo-chatbot\n')}],
      valuesFiles: [],
    },
    secret: {keys: ['JWT_SECRET'], checksum: o.checksum ?? 'f'.repeat(64)},
  }
}

const REQUEST: UpRequest & {rollbackOnFailure: boolean} = {
  build: true,
  force: false,
  valuesFiles: [],
  set: [],
  rollbackOnFailure: true,
}

function plan(o: Observed = {}, request: Partial<UpRequest & {rollbackOnFailure: boolean}> = {}) {
  return planUp(resolved, {...REQUEST, ...request}, observed(o))
}

/** The digest of a plan for these tags, as the deployed revision would hold it. */
function digestFor(o: Observed = {}, request: Partial<UpRequest> = {}): string {
  return plan(o, request).values.digest
}

describe('planUp: build, per service', () => {
  test.each([
    {
      name: 'an image the engine has is not built',
      o: {exists: {frontend: true}},
      request: {},
      expected: {action: 'skip', reason: `todo-frontend:${FRONTEND} already built (same content)`},
    },
    {
      name: 'new content is built',
      o: {},
      request: {},
      expected: {
        action: 'build',
        reason: `the engine has no todo-frontend:${FRONTEND}: the frontend source changed`,
      },
    },
    {
      name: 'a service left out of --only keeps its deployed tag',
      o: {history: ['deployed'] as ReleaseStatus[], config: deployedValues({frontend: 'c-000000000000'})},
      request: {only: ['backend' as const]},
      expected: {action: 'skip', reason: 'not in --only: keeps the deployed todo-frontend:c-000000000000'},
    },
    {
      name: 'a service left out of --only with nothing deployed is built all the same',
      o: {},
      request: {only: ['backend' as const]},
      expected: {
        action: 'build',
        reason: `the engine has no todo-frontend:${FRONTEND}: the frontend source changed`,
      },
    },
  ])('$name', ({o, request, expected}) => {
    expect(plan(o, request).services[0]?.build).toEqual(expected)
  })

  test('--only keeps the deployed tag in the plan and in the Helm values; a first install warns', () => {
    const kept = plan(
      {history: ['deployed'], config: deployedValues({frontend: 'c-000000000000'})},
      {only: ['backend']},
    )
    expect(kept.services[0]).toMatchObject({
      ref: 'todo-frontend:c-000000000000',
      tag: 'c-000000000000',
      contentTag: FRONTEND,
    })
    expect(kept.values.setString['frontend.image.tag']).toBe('c-000000000000')
    expect(kept.warnings).toEqual([])
    expect(plan({}, {only: ['backend']}).warnings).toEqual([
      '--only: frontend has no deployed image yet, so it is built and loaded too',
    ])
  })

  test('--no-build without the image: no plan, exit 2 naming the image', () => {
    expect(() => plan({exists: {frontend: true}}, {build: false})).toThrow(
      new BadInputError(
        `--no-build: the engine has no image todo-backend:${BACKEND} for the current backend source`,
        {
          where: '--no-build',
          fix: 'run `todo-deploy up` without --no-build to build it',
        },
      ),
    )
    expect(
      plan({exists: {frontend: true, backend: true}}, {build: false}).services.map((s) => s.build.action),
    ).toEqual(['skip', 'skip'])
  })
})

describe('planUp: load, per service', () => {
  test.each([
    {
      imageLoad: 'load' as const,
      expected: {action: 'load', reason: `sent to ${CLUSTER} unless it already has it`},
    },
    {
      imageLoad: 'docker-env' as const,
      expected: {action: 'skip', reason: `images are built inside ${CLUSTER} (docker-env)`},
    },
    {
      imageLoad: 'none' as const,
      expected: {action: 'skip', reason: `${CLUSTER} uses the local engine's images`},
    },
  ])('images by $imageLoad: $expected.action', ({imageLoad, expected}) => {
    const planned = plan({imageLoad})
    expect(planned.imageLoad).toBe(imageLoad)
    expect(planned.services.map((service) => service.load)).toEqual([expected, expected])
  })

  test('an image the node lists is not loaded when the deployed revision runs it; one it does not list is', () => {
    const planned = plan({
      history: ['deployed'],
      config: deployedValues({frontend: FRONTEND, backend: 'c-000000000000'}),
      nodeImages: [`docker.io/library/todo-frontend:${FRONTEND}`],
    })
    expect(planned.services.map((service) => service.load)).toEqual([
      {action: 'skip', reason: 'listed on node minikube, and revision 1 runs it'},
      {action: 'load', reason: `sent to ${CLUSTER} unless it already has it`},
    ])
  })

  // The node's list lags a removal (down --purge) by up to a minute: alone it proves nothing.
  test.each([
    ['nothing is deployed (a purge may have just removed it)', {}],
    [
      'the deployed revision runs another tag',
      {history: ['deployed'] as ReleaseStatus[], config: deployedValues({frontend: 'c-000000000000'})},
    ],
    [
      'the newest revision failed',
      {history: ['failed'] as ReleaseStatus[], config: deployedValues({frontend: FRONTEND})},
    ],
  ])('an image only the node lists is asked of the cluster when %s', (_, observed) => {
    const planned = plan({...observed, nodeImages: [`docker.io/library/todo-frontend:${FRONTEND}`]})
    expect(planned.services[0]?.load).toEqual({
      action: 'load',
      reason: `listed on node minikube, but no deployed revision runs it and that list lags a removal: ${CLUSTER} is asked, and sent it unless it has it`,
      listedOn: ['minikube'],
    })
  })

  test('a service left out of --only is not loaded', () => {
    const planned = plan(
      {history: ['deployed'], config: deployedValues({frontend: 'c-000000000000'})},
      {only: ['backend']},
    )
    expect(planned.services.map((service) => service.load.action)).toEqual(['skip', 'load'])
    expect(planned.services[0]?.load.reason).toBe('not in --only')
  })
})

describe('planUp: the Helm action', () => {
  const same = (): Record<string, unknown> =>
    deployedValues({frontend: FRONTEND, backend: BACKEND}, digestFor({history: ['deployed']}))

  test.each([
    {
      name: 'nothing installed: install',
      o: {},
      request: {},
      expected: {action: 'install', reason: 'release todo-chatbot is not installed in todo-app-dev'},
    },
    {
      name: 'the deployed revision has this digest: skip',
      o: {history: ['superseded', 'deployed'] as ReleaseStatus[], config: same()},
      request: {},
      expected: {
        action: 'skip',
        revision: 2,
        reason: 'revision 2 already has these images, values and chart',
      },
    },
    {
      name: 'another digest: upgrade',
      o: {
        history: ['deployed'] as ReleaseStatus[],
        config: deployedValues({frontend: FRONTEND, backend: BACKEND}, '0'.repeat(32)),
      },
      request: {},
      expected: {action: 'upgrade', reason: 'revision 1 has other images, values or chart'},
    },
    {
      name: 'the same digest on a failed revision: upgrade',
      o: {history: ['deployed', 'failed'] as ReleaseStatus[], config: same()},
      request: {},
      expected: {action: 'upgrade', reason: 'revision 2 is failed'},
    },
    {
      name: 'pending without --force: the reason says up refuses',
      o: {history: ['deployed', 'pending-upgrade'] as ReleaseStatus[]},
      request: {},
      expected: {
        action: 'upgrade',
        reason: 'revision 2 is pending-upgrade: up refuses until --force recovers it',
      },
    },
    {
      name: 'pending-upgrade with --force: roll back to the last deployed revision, then upgrade',
      o: {history: ['deployed', 'pending-upgrade'] as ReleaseStatus[]},
      request: {force: true},
      expected: {
        action: 'upgrade',
        reason: 'revision 2 is pending-upgrade',
        recover: {
          action: 'rollback',
          revision: 1,
          reason: '--force: release todo-chatbot is pending-upgrade; rolling back to revision 1',
        },
      },
    },
    {
      name: 'a first install left pending with --force: uninstall, then install',
      o: {history: ['pending-install'] as ReleaseStatus[]},
      request: {force: true},
      expected: {
        action: 'install',
        reason: '--force: release todo-chatbot never deployed (pending-install); uninstalling it first',
        recover: {
          action: 'uninstall',
          reason: '--force: release todo-chatbot never deployed (pending-install); uninstalling it first',
        },
      },
    },
  ])('$name', ({o, request, expected}) => {
    expect(plan(o, request).helm).toEqual(expected)
  })
})

describe('planUp: after a failed rollout', () => {
  test.each([
    {
      name: 'roll back to the last revision that deployed',
      o: {history: ['deployed', 'superseded', 'deployed'] as ReleaseStatus[]},
      request: {},
      expected: {
        action: 'rollback',
        revision: 3,
        reason: 'revision 3 is the last that deployed successfully',
      },
    },
    {
      name: '--no-rollback keeps the failed revision',
      o: {history: ['deployed'] as ReleaseStatus[]},
      request: {rollbackOnFailure: false},
      expected: {action: 'keep', reason: '--no-rollback: the failed revision stays in place'},
    },
    {
      name: 'a failed first install is uninstalled: it has nothing to go back to',
      o: {},
      request: {},
      expected: {
        action: 'uninstall',
        reason:
          'no earlier revision deployed successfully: a failed first install is uninstalled (the namespace and the Secret stay)',
      },
    },
    {
      name: 'a failed first install stays with --no-rollback, and the reason says what to do',
      o: {},
      request: {rollbackOnFailure: false},
      expected: {
        action: 'keep',
        reason:
          '--no-rollback: the failed first install of release todo-chatbot stays for inspection; `todo-deploy status` shows it, `todo-deploy up` installs again once the cause is fixed, `todo-deploy down` removes it',
      },
    },
    {
      name: 'no new revision: nothing to roll back',
      o: {
        history: ['deployed'] as ReleaseStatus[],
        config: deployedValues({frontend: FRONTEND, backend: BACKEND}, digestFor({history: ['deployed']})),
      },
      request: {},
      expected: {action: 'keep', reason: 'no new revision: nothing to roll back'},
    },
  ])('$name', ({o, request, expected}) => {
    expect(plan(o, request).onFailure).toEqual(expected)
  })
})

describe('planUp: the values digest', () => {
  test.each([
    {
      name: 'another image tag',
      change: {o: {exists: {frontend: true}}, request: {only: ['backend' as const]}},
    },
    {name: 'another --set', change: {o: {}, request: {set: ['frontend.replicaCount=3']}}},
    {name: 'another Secret value', change: {o: {checksum: 'e'.repeat(64)}, request: {}}},
  ])('changes with $name, and is stable otherwise', ({change}) => {
    const base = digestFor()
    expect(digestFor()).toBe(base)
    const changed =
      change.request.only === undefined
        ? digestFor(change.o, change.request)
        : digestFor(
            {history: ['deployed'], config: deployedValues({frontend: 'c-000000000000'})},
            change.request,
          )
    expect(changed).toMatch(/^[0-9a-f]{32}$/)
    expect(changed).not.toBe(base)
  })

  test('the plan carries the tags, the checksum and the digest to Helm; no secret value', () => {
    const planned = plan()
    expect(planned.values.setString).toEqual({
      'secrets.checksum': 'f'.repeat(64),
      'frontend.image.tag': FRONTEND,
      'backend.image.tag': BACKEND,
      'todoDeploy.digest': planned.values.digest,
    })
    expect(planned.secret).toEqual({
      namespace: 'todo-app-dev',
      name: 'todo-app-secrets',
      keys: ['JWT_SECRET'],
    })
  })
})

describe('planUp: push, per service, with registry.url', () => {
  const registryProject = createTestProject({
    extraConfig: 'registry:\n  url: registry.example.com/team\n',
  })
  afterAll(() => registryProject.remove())
  const REMOTE = 'sha256:' + 'a'.repeat(64)

  function withRegistryObservation(
    remote: {frontend: string | null; backend: string | null},
    pushedAs: {frontend?: string[]; backend?: string[]} = {},
  ): UpObservation['registry'] {
    return {
      host: 'registry.example.com',
      images: {
        frontend: {
          ref: `registry.example.com/team/todo-frontend:${FRONTEND}`,
          remoteDigest: remote.frontend,
          pushedDigests: pushedAs.frontend ?? [],
        },
        backend: {
          ref: `registry.example.com/team/todo-backend:${BACKEND}`,
          remoteDigest: remote.backend,
          pushedDigests: pushedAs.backend ?? [],
        },
      },
    }
  }

  function withRegistry(
    remote: {frontend: string | null; backend: string | null},
    pushedAs: {frontend?: string[]; backend?: string[]} = {},
  ) {
    return planUp(registryProject.resolved, REQUEST, {
      ...observed({exists: {frontend: true, backend: true}}),
      registry: withRegistryObservation(remote, pushedAs),
    })
  }

  test('a tag the registry lacks is pushed; one it has with this image digest is skipped, saying so', () => {
    const plan = withRegistry({frontend: null, backend: REMOTE}, {backend: [REMOTE]})
    expect(plan.services.map((service) => [service.service, service.push])).toEqual([
      [
        'frontend',
        {
          action: 'push',
          reason: `registry registry.example.com has no registry.example.com/team/todo-frontend:${FRONTEND}`,
        },
      ],
      [
        'backend',
        {
          action: 'skip',
          reason: `registry.example.com/team/todo-backend:${BACKEND} is already in registry.example.com with the same digest ${REMOTE}`,
        },
      ],
    ])
  })

  test('the same tag with another digest is pushed again', () => {
    const plan = withRegistry({frontend: REMOTE, backend: REMOTE}, {frontend: ['sha256:' + 'b'.repeat(64)]})
    expect(plan.services[0]?.push).toEqual({
      action: 'push',
      reason: `registry registry.example.com holds ${REMOTE} under registry.example.com/team/todo-frontend:${FRONTEND}, which this image was not pushed as`,
    })
  })

  test('with a registry nothing is loaded, and the release runs the registry images', () => {
    const plan = withRegistry({frontend: null, backend: null})
    for (const service of plan.services) {
      expect(service.load).toEqual({
        action: 'skip',
        reason: 'images reach the cluster from registry.example.com',
      })
      expect(service.ref).toBe(`registry.example.com/team/todo-${service.service}:${service.tag}`)
    }
  })

  test('--only keeps the deployed registry image of the other service and pushes nothing for it', () => {
    const plan = planUp(
      registryProject.resolved,
      {...REQUEST, only: ['frontend']},
      {
        ...observed({
          history: ['deployed'],
          config: deployedValues({frontend: 'c-old000000000', backend: 'c-old111111111'}),
          exists: {frontend: true, backend: true},
        }),
        registry: withRegistryObservation({frontend: null, backend: null}),
      },
    )
    expect(plan.services[1]).toMatchObject({
      ref: 'registry.example.com/team/todo-backend:c-old111111111',
      push: {action: 'skip', reason: 'not in --only'},
    })
  })

  test('without a registry nothing is pushed', () => {
    expect(plan().services.map((service) => service.push)).toEqual([
      {action: 'skip', reason: 'no registry.url: nothing is pushed'},
      {action: 'skip', reason: 'no registry.url: nothing is pushed'},
    ])
  })
})
