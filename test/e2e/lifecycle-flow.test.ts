import {expect} from 'vitest'

import {
  imageOf,
  type DownJson,
  type RollbackJson,
  type RollbackListEntry,
  type StatusJson,
  type UpJson,
} from './support/cli-results.js'
import {waitFor} from './support/cluster-tools.js'
import {pageMarker} from './support/e2e-project.js'
import {useE2eSession} from './support/e2e-session.js'
import {FlowSteps} from './support/flow-steps.js'
import {fetchPage} from './support/frontend-page.js'
import {describeOnCluster} from './support/opt-in.js'
import {expectExit} from './support/todo-deploy-cli.js'

interface NamedList {
  items: {kind: string; metadata: {name: string; deletionTimestamp?: string}}[]
}

const RELEASE_KINDS = 'deployments,replicasets,pods,services,secrets,configmaps,leases'

/** Issue 5: up v1 → up v2 → rollback brings v1's code back → status tells so → down leaves nothing. */
describeOnCluster(
  'release lifecycle on a real cluster: rollback restores the code, down removes everything',
  () => {
    const session = useE2eSession()
    const steps = new FlowSteps()
    let url = ''
    let tagV1 = ''
    let tagV2 = ''

    steps.step('up deploys v1', async () => {
      const {run, json} = await session.cli.json<UpJson>(['up'])
      expectExit(run, 0)
      expect(json).toMatchObject({state: 'Healthy', helm: {action: 'install', revision: 1}})
      expect(json.url).toMatch(/^https?:\/\//)
      url = json.url ?? ''
      tagV1 = imageOf(json, 'frontend').tag
      expect(await fetchPage(url, pageMarker('v1'))).toContain(pageMarker('v1'))
    })

    steps.step('up deploys v2 of the frontend', async () => {
      session.project.setFrontendPage('v2')
      const {run, json} = await session.cli.json<UpJson>(['up'])
      expectExit(run, 0)
      expect(json).toMatchObject({state: 'Healthy', helm: {action: 'upgrade', revision: 2}})
      tagV2 = imageOf(json, 'frontend').tag
      expect(tagV2).not.toBe(tagV1)
      expect(await fetchPage(json.url ?? url, pageMarker('v2'))).toContain(pageMarker('v2'))
    })

    steps.step("rollback runs v1's image again and the URL serves v1's page", async () => {
      const {cli, tools, project} = session
      const {run, json} = await cli.json<RollbackJson>(['rollback'])
      expectExit(run, 0)
      expect(json).toMatchObject({
        command: 'rollback',
        release: project.release,
        fromRevision: 2,
        toRevision: 1,
        revision: 3,
      })
      expect(json.tags.frontend).toBe(tagV1)
      expect(await tools.deploymentImage(project.namespace, 'todo-frontend')).toBe(
        `${project.repository('frontend')}:${tagV1}`,
      )
      expect(await fetchPage(json.url ?? url, pageMarker('v1'))).toContain(pageMarker('v1'))
    })

    steps.step('status shows the new revision as a rollback to the first, running the v1 tag', async () => {
      const {cli, project} = session
      const {run, json} = await cli.json<StatusJson>(['status'])
      expectExit(run, 0)
      expect(json.release).toMatchObject({
        name: project.release,
        namespace: project.namespace,
        revision: 3,
        status: 'deployed',
      })
      expect(json.state).toBe('Healthy')
      expect(json.deployments.find((deployment) => deployment.name === 'todo-frontend')?.tags).toEqual([
        tagV1,
      ])

      const list = await cli.json<RollbackListEntry[]>(['rollback', '--list'])
      expectExit(list.run, 0)
      const byRevision = new Map(list.json.map((entry) => [entry.revision, entry]))
      expect(byRevision.get(3)).toMatchObject({
        status: 'deployed',
        description: 'Rollback to 1',
        tags: {frontend: tagV1},
      })
      expect(byRevision.get(2)?.tags.frontend).toBe(tagV2)
    })

    steps.step(
      'down --yes --purge leaves nothing of the release, and removes the namespace it created',
      async () => {
        const {cli, tools, project} = session
        const {run, json} = await cli.json<DownJson>(['down', '--yes', '--purge'])
        expectExit(run, 0)
        expect(json).toMatchObject({
          command: 'down',
          release: project.release,
          namespace: project.namespace,
          uninstalled: true,
        })
        expect(await tools.helmStatus(project.namespace, project.release)).toBeNull()

        // `down` deletes the release's objects itself (and waits for its pods), so none may remain that is
        // not already on its way out; the namespace the CLI created goes too.
        const ofRelease = async (selector: string): Promise<string[]> => {
          const list = await tools.kubectlJson<NamedList>([
            '-n',
            project.namespace,
            'get',
            RELEASE_KINDS,
            '-l',
            selector,
          ])
          return list.items
            .filter((item) => item.metadata.deletionTimestamp === undefined)
            .map((item) => `${item.kind}/${item.metadata.name}`)
        }
        expect(await ofRelease(`app.kubernetes.io/instance=${project.release}`)).toEqual([])
        expect(await ofRelease(`owner=helm,name=${project.release}`)).toEqual([])
        await waitFor(
          `namespace ${project.namespace} to be deleted`,
          async () => {
            const namespace = await tools.kubectl(['get', 'namespace', project.namespace])
            return namespace.exitCode !== 0 && /NotFound|not found/.test(namespace.stderr) ? true : undefined
          },
          {timeoutMs: 3 * 60_000, intervalMs: 2000},
        )
      },
    )

    steps.step('status after down reports nothing deployed, and exits 0', async () => {
      const {run, json} = await session.cli.json<StatusJson>(['status'])
      expectExit(run, 0)
      expect(json).toMatchObject({release: null, state: 'NotDeployed'})
    })
  },
)
