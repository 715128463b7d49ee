import {gzipSync} from 'node:zlib'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ExitCode, TodoDeployError} from '../../src/lib/errors.js'
import {HelmReleaseStore} from '../../src/lib/helm/release-store.js'
import {FakeKubeApiServer, connectionTo} from '../support/kube-api-server.js'

const NAMESPACE = 'todo-app-dev'

/** A release record as helm's Secret driver stores it; `gzip: false` is the pre-compression format. */
function storedRevision(
  release: string,
  version: number,
  status: string,
  options: {gzip?: boolean; config?: Record<string, unknown> | null} = {},
) {
  const record = JSON.stringify({
    name: release,
    namespace: NAMESPACE,
    version,
    info: {
      status,
      description: status === 'deployed' ? 'Upgrade complete' : 'Install complete',
      first_deployed: '2026-11-27T10:00:00.123456789Z',
      last_deployed: `2026-11-27T1${version}:00:00.5Z`,
    },
    chart: {metadata: {name: 'todo-chatbot-chart', version: '1.0.0', appVersion: '2.1.0'}},
    config: options.config !== undefined ? options.config : {backend: {image: {tag: `tag-${version}`}}},
    manifest: '---\nkind: ConfigMap\n',
  })
  const helmText = (options.gzip === false ? Buffer.from(record) : gzipSync(record)).toString('base64')
  return secretHolding(release, version, status, Buffer.from(helmText).toString('base64'))
}

function secretHolding(release: string, version: number, status: string, data: string) {
  return {
    metadata: {
      name: `sh.helm.release.v1.${release}.v${version}`,
      namespace: NAMESPACE,
      labels: {owner: 'helm', name: release, status, version: String(version)},
    },
    type: 'helm.sh/release.v1',
    data: {release: data},
  }
}

describe('HelmReleaseStore', () => {
  let server: FakeKubeApiServer
  let store: HelmReleaseStore

  beforeEach(async () => {
    server = await FakeKubeApiServer.start()
    store = new HelmReleaseStore(connectionTo(server))
  })
  afterEach(async () => {
    await server.stop()
  })

  it('reads status, history and values of one release, newest last, leaving other releases out', async () => {
    server.seed('secrets', storedRevision('todo-chatbot', 2, 'deployed'))
    server.seed('secrets', storedRevision('todo-chatbot', 1, 'superseded'))
    server.seed('secrets', storedRevision('todo-chatbot-2', 5, 'deployed'))

    expect(await store.history('todo-chatbot', NAMESPACE)).toEqual([
      {
        revision: 1,
        updated: new Date('2026-11-27T11:00:00.500Z'),
        status: 'superseded',
        chart: 'todo-chatbot-chart-1.0.0',
        appVersion: '2.1.0',
        description: 'Install complete',
      },
      expect.objectContaining({revision: 2, status: 'deployed'}),
    ])
    expect(await store.status('todo-chatbot', NAMESPACE)).toEqual({
      name: 'todo-chatbot',
      namespace: NAMESPACE,
      revision: 2,
      status: 'deployed',
      description: 'Upgrade complete',
      firstDeployed: new Date('2026-11-27T10:00:00.123Z'),
      lastDeployed: new Date('2026-11-27T12:00:00.500Z'),
      config: {backend: {image: {tag: 'tag-2'}}},
      manifest: '---\nkind: ConfigMap\n',
    })
    expect(await store.getValues('todo-chatbot', NAMESPACE, 1)).toEqual({backend: {image: {tag: 'tag-1'}}})
    await expect(store.getValues('todo-chatbot', NAMESPACE, 7)).rejects.toThrow(
      'release "todo-chatbot" does not exist in namespace todo-app-dev',
    )
  })

  it('reads a record stored before helm compressed them, and a revision given no values', async () => {
    server.seed('secrets', storedRevision('old', 1, 'deployed', {gzip: false}))
    server.seed('secrets', storedRevision('bare', 1, 'deployed', {config: null}))
    expect(await store.status('old', NAMESPACE)).toMatchObject({revision: 1, status: 'deployed'})
    expect(await store.getValues('old', NAMESPACE)).toEqual({backend: {image: {tag: 'tag-1'}}})
    expect(await store.getValues('bare', NAMESPACE)).toEqual({})
  })

  it('answers status and history asked together with one list call', async () => {
    server.seed('secrets', storedRevision('todo-chatbot', 1, 'deployed'))
    const listCalls = () => server.requests.filter((request) => request.path.endsWith('/secrets')).length
    await Promise.all([store.status('todo-chatbot', NAMESPACE), store.history('todo-chatbot', NAMESPACE)])
    expect(listCalls()).toBe(1)
    // A later read is a fresh one: helm may have written a revision since.
    await store.status('todo-chatbot', NAMESPACE)
    expect(listCalls()).toBe(2)
  })

  it('names the Secret whose record it cannot read, without quoting the record', async () => {
    server.seed('secrets', storedRevision('todo-chatbot', 1, 'superseded'))
    const damaged = Buffer.from('H4sIAAAA-not-a-release-test-secret-value').toString('base64')
    server.seed('secrets', secretHolding('todo-chatbot', 2, 'deployed', damaged))
    const failure = await store.status('todo-chatbot', NAMESPACE).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TodoDeployError)
    const error = failure as TodoDeployError
    expect(error.exitCode).toBe(ExitCode.Unexpected)
    expect(error.message).toBe(
      `could not read helm's record of release "todo-chatbot" from Secret sh.helm.release.v1.todo-chatbot.v2`,
    )
    expect(error.where).toBe(`Secret sh.helm.release.v1.todo-chatbot.v2 in namespace ${NAMESPACE}`)
    expect(error.fix).toContain('helm history todo-chatbot -n todo-app-dev')
    expect(JSON.stringify([error.message, error.details, error.fix])).not.toContain('test-secret-value')
  })

  it('reports a record that is JSON but not a release as unreadable too', async () => {
    const notRelease = Buffer.from(
      Buffer.from(gzipSync(JSON.stringify({kind: 'something else'}))).toString('base64'),
    ).toString('base64')
    server.seed('secrets', secretHolding('todo-chatbot', 1, 'deployed', notRelease))
    await expect(store.history('todo-chatbot', NAMESPACE)).rejects.toThrow(
      /could not read helm's record of release "todo-chatbot"/,
    )
  })
})
