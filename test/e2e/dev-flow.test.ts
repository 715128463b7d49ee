import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'vitest'

import type {StatusJson} from './support/cli-results.js'
import {waitFor} from './support/cluster-tools.js'
import {pageMarker} from './support/e2e-project.js'
import {useE2eSession} from './support/e2e-session.js'
import {FlowSteps} from './support/flow-steps.js'
import {fetchPage} from './support/frontend-page.js'
import {describeOnCluster} from './support/opt-in.js'
import {leakedSecretNames} from './support/secret-leaks.js'
import {describeRun, expectExit, parseJson, type CliRun, type RunningCli} from './support/todo-deploy-cli.js'

interface DevJsonEvent {
  event: string
  url?: string
  status?: string
  error?: {exitCode: number; message: string; details: string[]}
  rolledBackTo?: number
  result?: {url?: string}
}

/** Issue 12: `dev` on a real cluster: an edit redeploys, a broken backend is rolled back, Ctrl-C leaves the app. */
describeOnCluster('dev on a real cluster: edit, break, fix, stop', () => {
  const session = useE2eSession()
  const steps = new FlowSteps()
  let dev: RunningCli | undefined
  let run: CliRun | undefined
  let url = ''
  let goodBackendDockerfile = ''

  /** Polls `condition` every 2 s until it holds. */
  const until = (what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<true> =>
    waitFor(what, async () => ((await condition()) ? true : undefined), {timeoutMs, intervalMs: 2000})
  /** 0 until the first deploy has made the release (`helm history` fails on a release not yet made). */
  const helmRevision = async (): Promise<number> => {
    const {tools, project} = session
    return (await tools.helmStatus(project.namespace, project.release))?.revision ?? 0
  }
  /** The frontend URL `status` reports ('' until the Service exists): status has no top-level url. */
  const statusUrl = async (): Promise<string> => {
    const {run: status, json} = await session.cli.json<StatusJson>(['status'])
    expectExit(status, 0)
    return json.services.find((service) => service.url !== null)?.url ?? ''
  }

  /**
   * The first event dev printed past `printedBefore` that ends an iteration (`iteration-finished` or
   * `iteration-failed`), or only of the kind `kind` (an earlier iteration may end in between).
   */
  const iterationEnd = (what: string, printedBefore: number, kind?: 'iteration-failed') =>
    waitFor(
      what,
      async () =>
        dev
          ?.output()
          .slice(printedBefore)
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as DevJsonEvent)
          .find((event) =>
            kind === undefined ? event.event.startsWith('iteration-f') : event.event === kind,
          ),
      {timeoutMs: 6 * 60_000, intervalMs: 500},
    )

  steps.step('dev deploys the app and keeps running, holding the lock', async () => {
    const {cli, project} = session
    project.setFrontendPage('v1')
    dev = cli.start(['dev', '--json', '--debounce', '300'])
    await until(
      'the first deploy',
      async () => (await helmRevision()) >= 1 && (await statusUrl()) !== '',
      6 * 60_000,
    )
    url = await statusUrl()
    expect(await fetchPage(url, pageMarker('v1'))).toContain(pageMarker('v1'))
    expect(dev.finished).toBe(false)

    // The lock names the running dev: an up elsewhere is refused.
    const refused = await cli.run(['up'])
    expectExit(refused, 5)
    expect(refused.stderr).toContain('todo-deploy dev')
  })

  steps.step('editing the frontend page redeploys it and the URL serves the new page', async () => {
    const before = await helmRevision()
    session.project.setFrontendPage('v2')
    await until('the frontend redeploy', async () => (await helmRevision()) > before, 6 * 60_000)
    expect(await fetchPage(url, pageMarker('v2'), 120_000)).toContain(pageMarker('v2'))
  })

  steps.step(
    'a broken backend is rolled back; dev keeps running and the old backend still serves',
    async () => {
      const {project, tools} = session
      const dockerfile = path.join(project.dir, 'backend', 'Dockerfile')
      goodBackendDockerfile = readFileSync(dockerfile, 'utf8')
      const backendBefore = await tools.deploymentImage(project.namespace, 'todo-backend')
      const before = await helmRevision()
      const printedBefore = dev?.output().length ?? 0
      project.breakBackend()
      // The failed revision, then the rollback's.
      await until(
        'the failed revision and its rollback',
        async () => (await helmRevision()) >= before + 2,
        10 * 60_000,
      )
      await until(
        'the old backend image running again',
        async () => (await tools.deploymentImage(project.namespace, 'todo-backend')) === backendBefore,
        3 * 60_000,
      )
      // The iteration ends after the rollback's rollout and traffic wait: the next step starts after it.
      await iterationEnd('dev to end the broken iteration', printedBefore, 'iteration-failed')
      expect(dev?.finished).toBe(false)
      expect(await fetchPage(url, pageMarker('v2'))).toContain(pageMarker('v2'))
    },
  )

  steps.step(
    'fixing the backend: dev finishes the iteration at once (the rollback already runs that backend) and every pod is ready',
    async () => {
      const {project, tools} = session
      if (dev === undefined) throw new Error('dev was not started')
      const printedBefore = dev.output().length
      const backendBefore = await tools.deploymentImage(project.namespace, 'todo-backend')
      writeFileSync(path.join(project.dir, 'backend', 'Dockerfile'), goodBackendDockerfile)
      // The fixed backend is the content the rollback restored: nothing to redeploy, no new revision.
      // (Issue 19 saw this iteration hang once after "redeploying…": it must end, and end well.)
      const iteration = await iterationEnd('dev to finish the iteration of the fix', printedBefore)
      expect(iteration).toMatchObject({event: 'iteration-finished'})
      expect(await tools.deploymentImage(project.namespace, 'todo-backend')).toBe(backendBefore)
      const {run: status, json} = await session.cli.json<StatusJson>(['status'])
      expectExit(status, 0)
      for (const deployment of json.deployments) expect(deployment.ready).toBe(deployment.desired)
    },
  )

  steps.step('Ctrl-C: exit 0, the app still serves; the output told the whole story', async () => {
    dev?.interrupt()
    run = await dev?.done
    if (run === undefined) throw new Error('dev was not started')
    expectExit(run, 0)
    expect(await fetchPage(url, pageMarker('v2'))).toContain(pageMarker('v2'))

    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => parseJson<DevJsonEvent>({...run!, stdout: line}))
    const finished = events.filter((event) => event.event === 'iteration-finished')
    const failed = events.filter((event) => event.event === 'iteration-failed')
    expect(
      finished.some((event) => event.status === 'deployed'),
      describeRun(run),
    ).toBe(true)
    // The diagnosis of the crashing backend, as up prints it, and its rollback.
    expect(failed.some((event) => event.error?.exitCode === 5 && event.rolledBackTo !== undefined)).toBe(true)
    expect(events.at(-1)?.event).toBe('stopped')
  })

  steps.step('no secret value in anything dev printed', async () => {
    const printed = session.cli.runs.map((cliRun) => `${cliRun.stdout}\n${cliRun.stderr}`).join('\n')
    expect(leakedSecretNames(printed, session.project.secrets)).toEqual([])
  })
})
