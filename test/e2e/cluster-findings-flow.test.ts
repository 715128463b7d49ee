import {expect} from 'vitest'

import type {StatusJson, UpJson} from './support/cli-results.js'
import {useE2eSession} from './support/e2e-session.js'
import {FlowSteps} from './support/flow-steps.js'
import {describeOnCluster} from './support/opt-in.js'
import {expectExit, parseJson, type CliErrorJson} from './support/todo-deploy-cli.js'

interface ServiceJson {
  spec: {ports: {nodePort?: number}[]}
}

/** Issue 9: what a first day on a real cluster showed (a taken nodePort, a failed first install). */
describeOnCluster('a nodePort another namespace holds is refused before anything is built', () => {
  const session = useE2eSession()
  const steps = new FlowSteps()
  const holder = {namespace: '', name: 'e2e-port-holder', nodePort: 0}

  steps.step('another namespace’s Service takes a nodePort', async () => {
    const {tools, project} = session
    holder.namespace = `todo-e2e-holder-${project.id}`
    const created = await tools.kubectl(['create', 'namespace', holder.namespace])
    expect(created.exitCode, created.stderr).toBe(0)
    const service = await tools.kubectl([
      '-n',
      holder.namespace,
      'create',
      'service',
      'nodeport',
      holder.name,
      '--tcp=80:80',
    ])
    expect(service.exitCode, service.stderr).toBe(0)
    const object = await tools.kubectlJson<ServiceJson>([
      '-n',
      holder.namespace,
      'get',
      'service',
      holder.name,
    ])
    holder.nodePort = object.spec.ports[0]?.nodePort ?? 0
    expect(holder.nodePort).toBeGreaterThanOrEqual(30000)
  })

  steps.step('up with the same fixed nodePort exits 2 in preflight, naming the holder', async () => {
    const {cli, tools, project} = session
    project.setFrontendNodePort(holder.nodePort)
    try {
      const run = await cli.run(['up', '--json'])
      expectExit(run, 2)
      const {error, result} = parseJson<CliErrorJson<UpJson>>(run)
      expect(error.kind).toBe('BadInputError')
      expect(error.message).toBe(
        `nodePort ${holder.nodePort} of todo-frontend-service is already held by Service ${holder.name} in namespace ${holder.namespace}`,
      )
      expect(error.where).toMatch(/^todo-deploy\.yaml:\d+:\d+$/)
      expect(error.fix).toContain('services.frontend.service.nodePort: null')
      // Nothing was built, loaded or deployed: preflight is the only phase that ran.
      expect(result?.phases.map((phase) => [phase.phase, phase.state])).toEqual([['preflight', 'failed']])
      expect(result?.images).toEqual([])
      expect(await tools.helmStatus(project.namespace, project.release)).toBeNull()
    } finally {
      project.setFrontendNodePort(null)
      await tools.kubectl(['delete', 'namespace', holder.namespace, '--ignore-not-found', '--wait=false'])
    }
  })
})

describeOnCluster('a first install whose backend crashes leaves no release behind', () => {
  const session = useE2eSession()
  const steps = new FlowSteps()

  steps.step(
    'the failed first install is diagnosed, then uninstalled; namespace and Secret stay',
    async () => {
      const {cli, tools, project} = session
      project.breakBackend()
      const run = await cli.run(['up', '--json'])
      expectExit(run, 5)
      const {error, result} = parseJson<CliErrorJson<UpJson>>(run)
      expect(result?.state).toBe('Failed')
      expect(result?.diagnosis).toMatchObject({deployment: 'todo-backend', container: 'backend'})
      expect(error.details.at(-1)).toMatch(
        new RegExp(`^the first install failed, so release ${project.release} was uninstalled`),
      )
      expect(await tools.helmStatus(project.namespace, project.release)).toBeNull()
      expect((await tools.kubectl(['get', 'namespace', project.namespace])).exitCode).toBe(0)
      expect(
        (await tools.kubectl(['-n', project.namespace, 'get', 'secret', 'todo-app-secrets'])).exitCode,
      ).toBe(0)

      const status = await cli.json<StatusJson>(['status'])
      expectExit(status.run, 0)
      expect(status.json.release).toBeNull()
    },
  )

  steps.step('the next up, with the backend fixed, installs cleanly (revision 1)', async () => {
    const {cli, tools, project} = session
    project.repairBackend()
    const {run, json} = await cli.json<UpJson>(['up'])
    expectExit(run, 0)
    expect(json.state).toBe('Healthy')
    expect(json.helm).toMatchObject({action: 'install', revision: 1})
    expect(await tools.helmHistory(project.namespace, project.release)).toEqual([
      {revision: 1, status: 'deployed', description: 'Install complete'},
    ])
  })
})
