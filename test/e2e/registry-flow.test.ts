import {expect} from 'vitest'

import {imageOf, type RollbackJson, type UpJson} from './support/cli-results.js'
import {pageMarker, type E2eService} from './support/e2e-project.js'
import {useE2eSession} from './support/e2e-session.js'
import {FlowSteps} from './support/flow-steps.js'
import {fetchPage} from './support/frontend-page.js'
import {describeOnClusterWithRegistry, E2E_REGISTRY} from './support/opt-in.js'
import {expectExit} from './support/todo-deploy-cli.js'

/**
 * Issue 13: the same lifecycle through a registry (TODO_DEPLOY_E2E_REGISTRY=host:port, one the nodes
 * pull from): up pushes and the nodes pull, an unchanged up pushes nothing, rollback returns to a
 * pushed tag, and down --purge (the session's cleanup) leaves the registry alone.
 */
describeOnClusterWithRegistry('up, rollback and down through a registry on a real cluster', () => {
  const registry = E2E_REGISTRY ?? ''
  const session = useE2eSession({registry})
  const steps = new FlowSteps()
  const repository = (service: E2eService): string =>
    `${registry}/todo-e2e/${session.project.repository(service)}`
  let url = ''
  let tagV1 = ''

  steps.step('up pushes both images to the registry, loads nothing, and the nodes pull them', async () => {
    const {cli, tools, project} = session
    const {run, json} = await cli.json<UpJson>(['up'])
    expectExit(run, 0)
    expect(json.state).toBe('Healthy')
    expect(json.phases.find((phase) => phase.phase === 'load')?.state).toBe('skipped')
    expect(json.phases.find((phase) => phase.phase === 'push')?.state).toBe('succeeded')
    for (const service of ['frontend', 'backend'] as const) {
      const image = imageOf(json, service)
      expect(image.ref).toBe(`${repository(service)}:${image.tag}`)
      expect(image.pushed).toBe(true)
      expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(await tools.deploymentImage(project.namespace, `todo-${service}`)).toBe(image.ref)
    }
    tagV1 = imageOf(json, 'frontend').tag
    url = json.url ?? ''
    if (/^https?:\/\//.test(url)) expect(await fetchPage(url, pageMarker('v1'))).toContain(pageMarker('v1'))
  })

  steps.step('an unchanged up pushes nothing: the registry has each tag with the same digest', async () => {
    const {run, json} = await session.cli.json<UpJson>(['up'])
    expectExit(run, 0)
    expect(json.phases.find((phase) => phase.phase === 'push')?.state).toBe('skipped')
    expect(json.images.every((image) => image.pushed === false)).toBe(true)
    expect(json.helm.action).toBe('skipped')
  })

  steps.step(
    'a changed frontend is pushed under its new tag; rollback returns to the pushed v1 tag',
    async () => {
      const {cli, tools, project} = session
      project.setFrontendPage('v2')
      const up = await cli.json<UpJson>(['up'])
      expectExit(up.run, 0)
      expect(imageOf(up.json, 'frontend').pushed).toBe(true)
      expect(imageOf(up.json, 'backend').pushed).toBe(false)

      const {run, json} = await cli.json<RollbackJson>(['rollback'])
      expectExit(run, 0)
      expect(json.tags.frontend).toBe(tagV1)
      expect(await tools.deploymentImage(project.namespace, 'todo-frontend')).toBe(
        `${repository('frontend')}:${tagV1}`,
      )
    },
  )
})
