import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {DeployError} from '../../src/lib/errors.js'
import {HelmReleaseStore} from '../../src/lib/helm/release-store.js'
import {helmClient} from '../../src/lib/lifecycle/connect.js'
import {HELM_MAJORS} from '../support/helm-binaries.js'
import {
  CONTRACT_CHART,
  CONTRACT_NAMESPACE as NAMESPACE,
  realHelmSandbox,
  type RealHelmSandbox,
} from '../support/helm-contract-subjects.js'

/**
 * HelmReleaseStore reads helm's storage format itself: for each helm major, what it reads back from the
 * Secrets the real helm wrote must equal what that helm prints (`status`, `history`, `get values
 * --revision N`, all `-o json`) for the same release, including a failed upgrade.
 */
for (const major of HELM_MAJORS) {
  describe(`HelmReleaseStore reads what real helm ${major} stored`, () => {
    let sandbox: RealHelmSandbox
    let store: HelmReleaseStore

    beforeAll(async () => {
      sandbox = await realHelmSandbox(major)
      store = new HelmReleaseStore(sandbox.kube)
    })
    afterAll(async () => {
      await sandbox?.close()
    })

    const deploy = (release: string, tag: string): Promise<{revision?: number}> =>
      sandbox.helm.upgradeInstall({
        release,
        chart: CONTRACT_CHART,
        namespace: NAMESPACE,
        valuesFiles: [],
        setString: {'image.tag': tag},
        set: ['replicas=2'],
        historyMax: 10,
      })

    it('an install, an upgrade and a failed upgrade read as helm reports them', async () => {
      const release = 'stored'
      await deploy(release, 'v1')
      await deploy(release, 'v2')
      // The API server refuses the upgraded object: helm records revision 3 as failed.
      sandbox.server.injectFault(
        {kind: 'status', code: 422, message: `ConfigMap "${release}-values" is invalid: data: Too long`},
        (request) => request.method === 'PATCH' && request.path.endsWith(`/configmaps/${release}-values`),
      )
      await expect(deploy(release, 'v3')).rejects.toBeInstanceOf(DeployError)
      sandbox.server.clearFaults()

      const history = await sandbox.helm.history(release, NAMESPACE)
      expect(history.map(({revision, status}) => ({revision, status}))).toEqual([
        {revision: 1, status: 'superseded'},
        {revision: 2, status: 'deployed'},
        {revision: 3, status: 'failed'},
      ])
      expect(await store.history(release, NAMESPACE)).toEqual(history)
      const status = await sandbox.helm.status(release, NAMESPACE)
      expect(status).toMatchObject({revision: 3, status: 'failed', config: {image: {tag: 'v3'}}})
      expect(status?.manifest).toContain(`name: ${release}-values`)
      expect(await store.status(release, NAMESPACE)).toEqual(status)
      for (const {revision} of history) {
        expect(await store.getValues(release, NAMESPACE, revision)).toEqual(
          await sandbox.helm.getValues(release, NAMESPACE, {revision}),
        )
      }
      expect(await store.getValues(release, NAMESPACE)).toEqual({image: {tag: 'v3'}, replicas: 2})
    })

    it('knows nothing of a release helm never installed, as helm does', async () => {
      expect(await store.status('never', NAMESPACE)).toBeNull()
      expect(await store.history('never', NAMESPACE)).toEqual([])
      await expect(store.getValues('never', NAMESPACE)).rejects.toThrow(/does not exist/)
    })
  })
}

describe('HELM_DRIVER other than secrets: releases are read through helm', () => {
  let sandbox: RealHelmSandbox

  beforeAll(async () => {
    sandbox = await realHelmSandbox('v3', {HELM_DRIVER: 'configmap'})
    await sandbox.helm.upgradeInstall({
      release: 'in-configmaps',
      chart: CONTRACT_CHART,
      namespace: NAMESPACE,
      valuesFiles: [],
      setString: {'image.tag': 'v1'},
      historyMax: 10,
    })
  })
  afterAll(async () => {
    await sandbox?.close()
  })

  it('finds the release helm keeps in ConfigMaps', async () => {
    const helm = helmClient(sandbox.helm, sandbox.kube, {HELM_DRIVER: 'configmap'})
    expect(await helm.status('in-configmaps', NAMESPACE)).toMatchObject({revision: 1, status: 'deployed'})
    expect(await helm.getValues('in-configmaps', NAMESPACE, {revision: 1})).toEqual({image: {tag: 'v1'}})
  })

  it('would not find it in the Secrets the default driver uses', async () => {
    for (const driver of ['', 'secret', 'secrets']) {
      const helm = helmClient(sandbox.helm, sandbox.kube, {HELM_DRIVER: driver})
      expect(await helm.status('in-configmaps', NAMESPACE)).toBeNull()
    }
  })
})
