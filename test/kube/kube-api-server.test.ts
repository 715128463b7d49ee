import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ApiException, CoreV1Api, PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {kubectlBinary} from '../support/helm-binaries.js'
import {FAKE_CONTEXT, FakeKubeApiServer, kubeConfigFor} from '../support/kube-api-server.js'

/** The fake must answer like a real API server where other tests rely on it: codes, Status bodies, versions. */
describe('FakeKubeApiServer through the real client-node', () => {
  let server: FakeKubeApiServer
  let kube: KubeConnection
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
    kube = new KubeConnection(
      {kc: kubeConfigFor(server), context: FAKE_CONTEXT, server: server.url},
      {timeoutMs: 3000},
    )
    await kube.core.createNamespace({body: {metadata: {name: 'ns'}}})
  })
  afterAll(() => server.stop())

  const apiError = async (
    promise: Promise<unknown>,
  ): Promise<{code: number; status: {reason?: string; message?: string}}> => {
    try {
      await promise
    } catch (error) {
      expect(error).toBeInstanceOf(ApiException)
      const {code, body} = error as ApiException<string>
      return {code, status: JSON.parse(body) as {reason?: string; message?: string}}
    }
    throw new Error('expected an ApiException')
  }

  it('answers 404 NotFound and 409 AlreadyExists with Status bodies', async () => {
    expect(await apiError(kube.core.readNamespacedConfigMap({name: 'missing', namespace: 'ns'}))).toEqual({
      code: 404,
      status: expect.objectContaining({reason: 'NotFound', message: 'configmaps "missing" not found'}),
    })
    await kube.core.createNamespacedConfigMap({
      namespace: 'ns',
      body: {metadata: {name: 'cm'}, data: {a: '1'}},
    })
    expect(
      await apiError(kube.core.createNamespacedConfigMap({namespace: 'ns', body: {metadata: {name: 'cm'}}})),
    ).toMatchObject({
      code: 409,
      status: {reason: 'AlreadyExists'},
    })
  })

  it('bumps resourceVersion on every write and refuses a stale one (409 Conflict)', async () => {
    const created = await kube.coordination.createNamespacedLease({
      namespace: 'ns',
      body: {metadata: {name: 'l'}, spec: {holderIdentity: 'a'}},
    })
    const updated = await kube.coordination.replaceNamespacedLease({
      name: 'l',
      namespace: 'ns',
      body: {...created, spec: {holderIdentity: 'b'}},
    })
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    )
    expect(
      await apiError(
        kube.coordination.replaceNamespacedLease({
          name: 'l',
          namespace: 'ns',
          body: {...created, spec: {holderIdentity: 'c'}},
        }),
      ),
    ).toMatchObject({
      code: 409,
      status: {reason: 'Conflict'},
    })
  })

  it('applies a merge patch and filters lists by label selector', async () => {
    await kube.core.createNamespacedConfigMap({
      namespace: 'ns',
      body: {metadata: {name: 'patched', labels: {keep: 'yes'}}, data: {a: '1', b: '2'}},
    })
    // The CLI never patches: client-node's generated client does it here.
    const patched = await kubeConfigFor(server).makeApiClient(CoreV1Api).patchNamespacedConfigMap(
      {name: 'patched', namespace: 'ns', body: {metadata: {labels: {tier: 'web'}}, data: {b: null, c: '3'}}},
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )
    expect(patched.data).toEqual({a: '1', c: '3'})
    expect(patched.metadata?.labels).toEqual({keep: 'yes', tier: 'web'})
    const selected = await kube.core.listNamespacedConfigMap({
      namespace: 'ns',
      labelSelector: 'tier=web,keep!=no',
    })
    expect(selected.items.map((item) => item.metadata?.name)).toEqual(['patched'])
  })

  it('serves the discovery kubectl needs: the real kubectl lists deploy,pods,svc by their short names', async () => {
    server.seed('deployments', {metadata: {name: 'web', namespace: 'ns'}, spec: {replicas: 1}})
    server.seed('services', {metadata: {name: 'web', namespace: 'ns'}, spec: {type: 'ClusterIP'}})
    const dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-kubectl-'))
    try {
      const kubeconfig = path.join(dir, 'kubeconfig')
      writeFileSync(kubeconfig, kubeConfigFor(server).exportConfig())
      const run = await execa(
        kubectlBinary('v3'),
        [
          '--kubeconfig',
          kubeconfig,
          '--cache-dir',
          path.join(dir, 'cache'),
          'get',
          'deploy,pods,svc',
          '-n',
          'ns',
          '-o',
          'name',
        ],
        {reject: false, timeout: 30_000},
      )
      expect(run.stderr).toBe('')
      expect(run.stdout.split('\n')).toEqual(['deployment.apps/web', 'service/web'])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
