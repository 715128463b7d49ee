import {inspect} from 'node:util'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {TodoDeployError} from '../../src/lib/errors.js'
import {KubeClusterApi} from '../../src/lib/kube/kube-client.js'
import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {KubeSecretStore} from '../../src/lib/kube/secret-store.js'
import {RegistryCredential} from '../../src/lib/registry/registry-credential.js'
import {SecretValue} from '../../src/lib/secrets/secret-value.js'
import {FAKE_CONTEXT, FakeKubeApiServer, kubeConfigFor} from '../support/kube-api-server.js'

const NS = 'todo-app-dev'
const NAME = 'todo-app-secrets'
const secret = (name: string, value: string): SecretValue => new SecretValue(name, value, 'environment')
const decoded = (data: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(data as Record<string, string>).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  )

describe('KubeSecretStore against an API server over HTTP', () => {
  let server: FakeKubeApiServer
  let store: KubeSecretStore
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
    const kube = new KubeConnection(
      {kc: kubeConfigFor(server), context: FAKE_CONTEXT, server: server.url},
      {timeoutMs: 3000},
    )
    store = new KubeSecretStore(kube)
    await new KubeClusterApi(kube).ensureNamespace(NS)
  })
  afterAll(() => server.stop())
  afterEach(() => server.clearFaults())

  it('creates an Opaque Secret with base64 data and the managed-by label, then updates it when a value changes', async () => {
    const first = await store.applySecret({
      namespace: NS,
      name: NAME,
      values: [secret('JWT_SECRET', 'test-secret-value-1'), secret('DATABASE_URL', 'postgres://test-only')],
      labels: {'app.kubernetes.io/instance': 'todo'},
    })
    expect(first.changed).toBe(true)
    expect(first.checksum).toMatch(/^[0-9a-f]{64}$/)
    const created = server.get('secrets', NS, NAME)
    expect(created?.type).toBe('Opaque')
    expect(decoded(created?.data)).toEqual({
      JWT_SECRET: 'test-secret-value-1',
      DATABASE_URL: 'postgres://test-only',
    })
    expect(created?.metadata.labels).toEqual({
      'app.kubernetes.io/instance': 'todo',
      'app.kubernetes.io/managed-by': 'todo-deploy',
    })

    const second = await store.applySecret({
      namespace: NS,
      name: NAME,
      values: [secret('JWT_SECRET', 'test-secret-value-2'), secret('DATABASE_URL', 'postgres://test-only')],
      labels: {'app.kubernetes.io/instance': 'todo'},
    })
    expect(second.changed).toBe(true)
    expect(second.checksum).not.toBe(first.checksum)
    expect(decoded(server.get('secrets', NS, NAME)?.data).JWT_SECRET).toBe('test-secret-value-2')
  })

  it('same values in any order: same checksum, changed=false, nothing written', async () => {
    const values = [secret('A_KEY', 'test-secret-a'), secret('B_KEY', 'test-secret-b')]
    const first = await store.applySecret({namespace: NS, name: 'stable', values})
    const version = server.get('secrets', NS, 'stable')?.metadata.resourceVersion
    const again = await store.applySecret({namespace: NS, name: 'stable', values: [...values].reverse()})
    expect(again).toEqual({checksum: first.checksum, changed: false})
    expect(server.get('secrets', NS, 'stable')?.metadata.resourceVersion).toBe(version)
  })

  it('a removed key counts as a change and disappears from the Secret', async () => {
    await store.applySecret({
      namespace: NS,
      name: 'shrinking',
      values: [secret('A_KEY', 'test-secret-a'), secret('B_KEY', 'test-secret-b')],
    })
    const result = await store.applySecret({
      namespace: NS,
      name: 'shrinking',
      values: [secret('A_KEY', 'test-secret-a')],
    })
    expect(result.changed).toBe(true)
    expect(Object.keys(server.get('secrets', NS, 'shrinking')?.data as object)).toEqual(['A_KEY'])
  })

  it('tells whether a Secret exists and deletes it', async () => {
    await store.applySecret({namespace: NS, name: 'short-lived', values: [secret('A_KEY', 'test-secret-a')]})
    expect(await store.secretExists(NS, 'short-lived')).toBe(true)
    expect(await store.deleteSecret(NS, 'short-lived')).toEqual({deleted: true})
    expect(await store.secretExists(NS, 'short-lived')).toBe(false)
    expect(await store.deleteSecret(NS, 'short-lived')).toEqual({deleted: false})
  })

  it('never lets a value into an error, even when the API server quotes it back', async () => {
    const value = 'test-secret-value-quoted'
    const base64 = Buffer.from(value).toString('base64')
    server.injectFault(
      {
        kind: 'status',
        code: 422,
        message: `Secret "bad" is invalid: data[JWT_SECRET]: Invalid value: "${value}" (${base64})`,
      },
      (request) => request.method === 'POST',
    )
    let error: unknown
    try {
      await store.applySecret({namespace: NS, name: 'bad', values: [secret('JWT_SECRET', value)]})
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TodoDeployError)
    const everything = [
      inspect(error, {depth: 10}),
      JSON.stringify(error),
      String(error),
      ...(error as TodoDeployError).details,
    ].join('\n')
    expect(everything).toContain('JWT_SECRET')
    expect(everything).not.toContain(value)
    expect(everything).not.toContain(base64)
  })

  it('into a namespace that does not exist: an error naming the namespace, without values', async () => {
    let error: unknown
    try {
      await store.applySecret({
        namespace: 'missing-ns',
        name: NAME,
        values: [secret('JWT_SECRET', 'test-secret-value-x')],
      })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TodoDeployError)
    expect((error as Error).message).toContain('create secrets/todo-app-secrets in namespace missing-ns')
    expect(inspect(error, {depth: 10})).not.toContain('test-secret-value-x')
  })
  describe('the image pull Secret', () => {
    const PASSWORD = 'test-secret-value-registry'
    const credential = new RegistryCredential('localhost:5000', 'the test Docker config', {
      kind: 'password',
      username: 'ci',
      password: PASSWORD,
    })

    it("is a dockerconfigjson Secret with only that registry, labelled as the CLI's; applied again, nothing is written", async () => {
      const request = {
        namespace: NS,
        name: 'todo-registry-pull',
        credential,
        labels: {'app.kubernetes.io/instance': 'todo'},
      }
      expect(await store.applyPullSecret(request)).toEqual({changed: true})
      const created = server.get('secrets', NS, 'todo-registry-pull')
      expect(created?.type).toBe('kubernetes.io/dockerconfigjson')
      expect(created?.metadata.labels).toEqual({
        'app.kubernetes.io/instance': 'todo',
        'app.kubernetes.io/managed-by': 'todo-deploy',
      })
      const config = JSON.parse(decoded(created?.data)['.dockerconfigjson'] ?? '{}') as {
        auths: Record<string, {username: string; password: string; auth: string}>
      }
      expect(config.auths).toEqual({
        'localhost:5000': {
          username: 'ci',
          password: PASSWORD,
          auth: Buffer.from(`ci:${PASSWORD}`).toString('base64'),
        },
      })
      const version = created?.metadata.resourceVersion
      expect(await store.applyPullSecret(request)).toEqual({changed: false})
      expect(server.get('secrets', NS, 'todo-registry-pull')?.metadata.resourceVersion).toBe(version)
    })

    it('never lets the login into an error, even when the API server quotes the Secret back', async () => {
      const body = Buffer.from(JSON.stringify({auths: {'localhost:5000': {password: PASSWORD}}})).toString(
        'base64',
      )
      server.injectFault(
        {kind: 'status', code: 422, message: `Secret "bad" is invalid: ${PASSWORD} ${body}`},
        (request) => request.method === 'POST',
      )
      let error: unknown
      try {
        await store.applyPullSecret({namespace: NS, name: 'bad-pull', credential})
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(TodoDeployError)
      const everything = [inspect(error, {depth: 10}), JSON.stringify(error), String(error)].join('\n')
      expect(everything).toContain('invalid')
      expect(everything).not.toContain(PASSWORD)
    })
  })
})
