import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BadInputError} from '../../src/lib/errors.js'
import type {HelmClient, UpgradeInstallRequest} from '../../src/lib/helm/helm-client.js'
import {ReleasePendingError} from '../../src/lib/helm/helm-errors.js'

/** One HelmClient with the cluster it deploys to, for one describe block. */
export interface HelmContractSubject {
  helm: HelmClient
  namespace: string
  /** A chart folder whose only object holds the values it was given. */
  chart: string
  /** Leaves `release` as a killed `helm upgrade` does: a newer revision pending-upgrade, the old one still deployed. */
  leavePendingUpgrade(release: string): Promise<void>
  close(): Promise<void>
}

/**
 * The cases every HelmClient must pass: the real helm 3 and 4 through HelmCli, and FakeHelm, so the
 * fake the lifecycle tests lean on cannot drift from what helm does.
 */
export function helmClientContract(name: string, makeSubject: () => Promise<HelmContractSubject>): void {
  describe(`HelmClient contract: ${name}`, () => {
    let subject: HelmContractSubject
    let valuesDir: string
    let releases = 0

    beforeAll(async () => {
      subject = await makeSubject()
      valuesDir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-helm-contract-'))
    })
    afterAll(async () => {
      await subject?.close()
      if (valuesDir) rmSync(valuesDir, {recursive: true, force: true})
    })

    /** A release name no other case uses: the cases share one cluster. */
    const newRelease = (): string => `ct${++releases}`
    const valuesFile = (file: string, text: string): string => {
      const full = path.join(valuesDir, file)
      writeFileSync(full, text)
      return full
    }
    const deploy = (
      release: string,
      values: Partial<Pick<UpgradeInstallRequest, 'valuesFiles' | 'setString' | 'set' | 'historyMax'>> = {},
    ): Promise<{revision?: number}> =>
      subject.helm.upgradeInstall({
        release,
        chart: subject.chart,
        namespace: subject.namespace,
        valuesFiles: [],
        setString: {},
        historyMax: 10,
        ...values,
      })
    const statuses = async (release: string): Promise<string[]> =>
      (await subject.helm.history(release, subject.namespace)).map((row) => row.status)

    it('knows nothing of a release that was never installed', async () => {
      const release = newRelease()
      expect(await subject.helm.status(release, subject.namespace)).toBeNull()
      expect(await subject.helm.history(release, subject.namespace)).toEqual([])
      expect(await subject.helm.uninstall(release, subject.namespace)).toEqual({existed: false})
    })

    it('installs revision 1, deployed, with the values it was given', async () => {
      const release = newRelease()
      expect(await deploy(release, {setString: {'image.tag': 'v1'}})).toEqual({revision: 1})
      const status = await subject.helm.status(release, subject.namespace)
      expect(status).toMatchObject({
        name: release,
        namespace: subject.namespace,
        revision: 1,
        status: 'deployed',
        description: 'Install complete',
        config: {image: {tag: 'v1'}},
      })
      const history = await subject.helm.history(release, subject.namespace)
      expect(history).toMatchObject([{revision: 1, status: 'deployed', chart: 'contract-0.1.0'}])
    })

    it('upgrades to revision 2 and supersedes revision 1, which keeps its own values', async () => {
      const release = newRelease()
      await deploy(release, {setString: {'image.tag': 'v1'}})
      expect(await deploy(release, {setString: {'image.tag': 'v2'}})).toEqual({revision: 2})
      const history = await subject.helm.history(release, subject.namespace)
      expect(history.map(({revision, status, description}) => ({revision, status, description}))).toEqual([
        {revision: 1, status: 'superseded', description: 'Install complete'},
        {revision: 2, status: 'deployed', description: 'Upgrade complete'},
      ])
      expect(await subject.helm.getValues(release, subject.namespace)).toEqual({image: {tag: 'v2'}})
      expect(await subject.helm.getValues(release, subject.namespace, {revision: 1})).toEqual({
        image: {tag: 'v1'},
      })
    })

    it('merges values as helm does: files in order, then --set, then --set-string over both', async () => {
      const release = newRelease()
      const base = valuesFile(
        'base.yaml',
        'image:\n  tag: from-base\n  pullPolicy: Always\nbackend:\n  port: 8000\n',
      )
      const override = valuesFile('override.yaml', 'image:\n  tag: from-override\nfrontend:\n  port: 3000\n')
      await deploy(release, {
        valuesFiles: [base, override],
        setString: {'image.tag': 'from-set-string', 'backend.checksum': '007'},
        set: ['image.tag=from-set', 'replicas=3', 'debug=true', 'extra.one=1,extra.two=two'],
      })
      const expected = {
        image: {tag: 'from-set-string', pullPolicy: 'Always'},
        backend: {port: 8000, checksum: '007'},
        frontend: {port: 3000},
        replicas: 3,
        debug: true,
        extra: {one: 1, two: 'two'},
      }
      expect(await subject.helm.getValues(release, subject.namespace)).toEqual(expected)
      expect((await subject.helm.status(release, subject.namespace))?.config).toEqual(expected)
    })

    it('keeps commas and backslashes inside a --set-string value', async () => {
      const release = newRelease()
      await deploy(release, {setString: {'note.text': 'a,b\\c'}})
      expect(await subject.helm.getValues(release, subject.namespace)).toEqual({note: {text: 'a,b\\c'}})
    })

    it("rolls back to revision 1 as revision 3, with revision 1's values", async () => {
      const release = newRelease()
      await deploy(release, {setString: {'image.tag': 'v1'}})
      await deploy(release, {setString: {'image.tag': 'v2'}})
      await subject.helm.rollback(release, 1, subject.namespace)
      const status = await subject.helm.status(release, subject.namespace)
      expect(status).toMatchObject({revision: 3, status: 'deployed', description: 'Rollback to 1'})
      expect(status?.config).toEqual({image: {tag: 'v1'}})
      expect(await statuses(release)).toEqual(['superseded', 'superseded', 'deployed'])
      expect(await subject.helm.getValues(release, subject.namespace)).toEqual({image: {tag: 'v1'}})
    })

    it('refuses to roll back to a revision the release does not have (bad input)', async () => {
      const release = newRelease()
      await deploy(release)
      await expect(subject.helm.rollback(release, 99, subject.namespace)).rejects.toBeInstanceOf(
        BadInputError,
      )
      expect(await statuses(release)).toEqual(['deployed'])
    })

    it('keeps at most historyMax revisions, dropping the oldest', async () => {
      const release = newRelease()
      for (const tag of ['v1', 'v2', 'v3', 'v4'])
        await deploy(release, {setString: {'image.tag': tag}, historyMax: 2})
      const history = await subject.helm.history(release, subject.namespace)
      expect(history.map(({revision, status}) => ({revision, status}))).toEqual([
        {revision: 3, status: 'superseded'},
        {revision: 4, status: 'deployed'},
      ])
    })

    it('uninstalls: the release, its history and its values are gone', async () => {
      const release = newRelease()
      await deploy(release)
      await deploy(release, {setString: {'image.tag': 'v2'}})
      expect(await subject.helm.uninstall(release, subject.namespace)).toEqual({existed: true})
      expect(await subject.helm.status(release, subject.namespace)).toBeNull()
      expect(await subject.helm.history(release, subject.namespace)).toEqual([])
      expect(await subject.helm.uninstall(release, subject.namespace)).toEqual({existed: false})
    })

    it('reports a release a killed upgrade left pending, and refuses to upgrade it', async () => {
      const release = newRelease()
      await deploy(release, {setString: {'image.tag': 'v1'}})
      await subject.leavePendingUpgrade(release)
      expect(await subject.helm.status(release, subject.namespace)).toMatchObject({
        revision: 2,
        status: 'pending-upgrade',
      })
      expect(await statuses(release)).toEqual(['deployed', 'pending-upgrade'])
      await expect(deploy(release, {setString: {'image.tag': 'v3'}})).rejects.toBeInstanceOf(
        ReleasePendingError,
      )
      expect(await statuses(release)).toEqual(['deployed', 'pending-upgrade'])
    })
  })
}
