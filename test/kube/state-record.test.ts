import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {DeployError} from '../../src/lib/errors.js'
import {KubeClusterApi} from '../../src/lib/kube/kube-client.js'
import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {
  ConfigMapStateRecordStore,
  HISTORY_LIMIT,
  type LifecycleRecord,
  type OperationRecord,
  stateRecordName,
  summariseOperation,
} from '../../src/lib/kube/state-record.js'
import {FAKE_CONTEXT, FakeKubeApiServer, kubeConfigFor} from '../support/kube-api-server.js'

const NS = 'todo-app-dev'

function operation(id: string, overrides: Partial<OperationRecord> = {}): OperationRecord {
  return {
    id,
    command: 'up',
    startedAt: '2025-06-01T10:00:00.000Z',
    endedAt: '2025-06-01T10:01:30.000Z',
    result: 'succeeded',
    phases: [
      {
        phase: 'Building',
        state: 'skipped',
        startedAt: '2025-06-01T10:00:00.000Z',
        endedAt: '2025-06-01T10:00:00.100Z',
        durationMs: 100,
        skipReason: 'images unchanged',
      },
      {
        phase: 'Deploying',
        state: 'succeeded',
        startedAt: '2025-06-01T10:00:01.000Z',
        endedAt: '2025-06-01T10:01:30.000Z',
        durationMs: 89_000,
        detail: 'revision 3',
      },
    ],
    tags: {frontend: 'c0ffee12', backend: 'deadbeef'},
    revision: 3,
    url: 'http://192.168.49.2:30080',
    ...overrides,
  }
}

describe('ConfigMapStateRecordStore against an API server over HTTP', () => {
  let server: FakeKubeApiServer
  let store: ConfigMapStateRecordStore
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
    const kube = new KubeConnection(
      {kc: kubeConfigFor(server), context: FAKE_CONTEXT, server: server.url},
      {timeoutMs: 3000},
    )
    store = new ConfigMapStateRecordStore(kube)
    await new KubeClusterApi(kube).ensureNamespace(NS)
  })
  afterAll(() => server.stop())

  it('reads nothing before the first write', async () => {
    expect(await store.read(NS, 'todo')).toBeNull()
    expect(await store.read('no-such-namespace', 'todo')).toBeNull()
  })

  it('round-trips a record through a labelled ConfigMap, and overwrites it', async () => {
    const running: LifecycleRecord = {
      operation: operation('op-1', {result: 'running', endedAt: undefined}),
      history: [],
    }
    await store.write(NS, 'todo', running)
    const configMap = server.get('configmaps', NS, stateRecordName('todo'))
    expect(configMap?.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'todo-deploy',
      'app.kubernetes.io/instance': 'todo',
    })
    expect(await store.read(NS, 'todo')).toEqual(running)

    const done: LifecycleRecord = {
      operation: operation('op-1'),
      history: [summariseOperation(operation('op-1'))],
    }
    await store.write(NS, 'todo', done)
    expect(await store.read(NS, 'todo')).toEqual(done)
  })

  it("keeps dev's live-sync counts beside the operation: a count and an image, no paths", async () => {
    const record: LifecycleRecord = {
      operation: operation('op-2'),
      history: [],
      live: {frontend: {image: 'todo-frontend:c-1f3e00000000', files: 3, at: '2026-12-06T02:48:56.707Z'}},
    }
    await store.write(NS, 'live', record)
    expect(await store.read(NS, 'live')).toEqual(record)
    const stored = server.get('configmaps', NS, stateRecordName('live')) as {data?: Record<string, string>}
    const text = stored.data?.['record.json'] ?? ''
    expect(JSON.parse(text).live).toEqual(record.live)
  })

  it('keeps only the most recent history entries', async () => {
    const history = Array.from({length: HISTORY_LIMIT + 5}, (_, index) =>
      summariseOperation(operation(`op-${index}`)),
    )
    await store.write(NS, 'long', {operation: operation('op-0'), history})
    const read = await store.read(NS, 'long')
    expect(read?.history.map((entry) => entry.id)).toEqual(
      history.slice(0, HISTORY_LIMIT).map((entry) => entry.id),
    )
  })

  it('deletes the record', async () => {
    await store.write(NS, 'gone', {operation: operation('op-9'), history: []})
    expect(await store.delete(NS, 'gone')).toEqual({deleted: true})
    expect(await store.read(NS, 'gone')).toBeNull()
    expect(await store.delete(NS, 'gone')).toEqual({deleted: false})
  })

  it('says how to recover from a record that is not valid', async () => {
    server.seed('configmaps', {
      metadata: {name: stateRecordName('broken'), namespace: NS},
      data: {'record.json': '{"operation": {"id": 1}}'},
    })
    const error = await store.read(NS, 'broken').then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(DeployError)
    expect((error as DeployError).fix).toBe(
      `delete it (\`kubectl -n ${NS} delete configmap todo-deploy-state-broken\`); the next todo-deploy up writes a fresh one`,
    )
  })
})
