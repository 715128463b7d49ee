import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {beforeAll, expect} from 'vitest'

import {waitFor} from './support/cluster-tools.js'
import {pageMarker} from './support/e2e-project.js'
import {useE2eSession} from './support/e2e-session.js'
import {FlowSteps} from './support/flow-steps.js'
import {fetchPage} from './support/frontend-page.js'
import {makeLiveSyncProject, writeFrontendFile} from './support/live-sync-project.js'
import {describeOnCluster} from './support/opt-in.js'
import {leakedSecretNames} from './support/secret-leaks.js'
import {expectExit, type RunningCli} from './support/todo-deploy-cli.js'

interface DevEvent {
  event: string
  status?: string
  service?: string
  files?: number
  pods?: number
  reason?: string
  fix?: string
  resynced?: {pods: string[]; files: number}
  url?: string
  steps?: {step: string; ms: number}[]
}

/**
 * Issue 20 on a real cluster: `dev` copies an edit into the running pods (no image, no helm revision),
 * new nested folders too; a target the container user cannot write falls back to a rebuild that says
 * how to fix it; a pod deleted during `dev` gets the synced files again. The frontend runs 2 pods.
 */
describeOnCluster('dev live sync on a real cluster', () => {
  const session = useE2eSession({prefix: 'live-sync'})
  const steps = new FlowSteps()
  let dev: RunningCli | undefined
  let url = ''
  let revision = 0
  let frontendImage = ''

  beforeAll(() => {
    makeLiveSyncProject(session.project, {frontendReplicas: 2})
  })

  const until = <T>(what: string, value: () => Promise<T | undefined>, timeoutMs: number): Promise<T> =>
    waitFor(what, value, {timeoutMs, intervalMs: 500})
  /** Every JSON event `dev --json` printed so far. */
  const events = (): DevEvent[] =>
    (dev?.output() ?? '')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as DevEvent)
  const eventsSince = (count: number): DevEvent[] => events().slice(count)
  const helmRevision = async (): Promise<number> => {
    const {tools, project} = session
    return (await tools.helmHistory(project.namespace, project.release)).at(-1)?.revision ?? 0
  }
  const frontendPods = async (): Promise<string[]> => {
    const {tools, project} = session
    return (await tools.pods(project.namespace, project.release, 'todo-frontend')).map((pod) => pod.name)
  }
  const catInPod = async (pod: string, file: string): Promise<string> => {
    const {tools, project} = session
    const run = await tools.kubectl(['-n', project.namespace, 'exec', pod, '--', 'cat', file])
    return run.exitCode === 0 ? run.stdout : `cat ${file} in ${pod} failed: ${run.stderr}`
  }
  /** No image built, no `up`, no helm revision since `before` events: what a synced change must show. */
  const expectNoRebuild = async (before: number): Promise<void> => {
    const since = eventsSince(before)
    expect(since.filter((event) => event.event === 'up')).toEqual([])
    const finished = since.filter((event) => event.event === 'iteration-finished')
    expect(finished.map((event) => event.status)).toEqual(finished.map(() => 'synced'))
    expect(finished.flatMap((event) => event.steps ?? []).map((step) => step.step)).not.toContain('build')
    expect(await helmRevision()).toBe(revision)
    expect(await session.tools.deploymentImage(session.project.namespace, 'todo-frontend')).toBe(
      frontendImage,
    )
  }
  const syncedFrontend = (before: number): Promise<DevEvent> =>
    until(
      'the frontend synced event',
      async () =>
        eventsSince(before).find((event) => event.event === 'synced' && event.service === 'frontend'),
      30_000,
    )

  steps.step('dev deploys the dev stages, both frontend pods ready', async () => {
    const {cli, project} = session
    project.setFrontendPage('v1')
    dev = cli.start(['dev', '--json', '--debounce', '300'])
    // The first deploy is an `up` event; `watching` follows once dev waits for changes.
    await until(
      'the first deploy',
      async () => events().find((event) => event.event === 'watching'),
      8 * 60_000,
    )
    expect(events().find((event) => event.event === 'up')).toBeDefined()
    expect(events().find((event) => event.event === 'up')).not.toHaveProperty('error')
    // The URL from this machine, as dev prints it (the NodePort, or a port-forward of its own).
    const reachable = await until(
      'the URL',
      async () => events().find((event) => event.event === 'reachable'),
      60_000,
    )
    url = (reachable.url ?? '').replace(/\/$/, '')
    expect(await fetchPage(url, pageMarker('v1'))).toContain(pageMarker('v1'))
    revision = await helmRevision()
    frontendImage = await session.tools.deploymentImage(project.namespace, 'todo-frontend')
    expect(await frontendPods()).toHaveLength(2)
    expect(dev.finished).toBe(false)
  })

  steps.step('(a) an edited page is served by the URL without a rebuild', async () => {
    const before = events().length
    session.project.setFrontendPage('v2')
    const synced = await syncedFrontend(before)
    expect(synced).toMatchObject({files: 1, pods: 2})
    expect(await fetchPage(url, pageMarker('v2'), 10_000)).toContain(pageMarker('v2'))
    await expectNoRebuild(before)
  })

  steps.step('(b) a file in a new nested folder syncs and is served', async () => {
    const before = events().length
    writeFrontendFile(session.project, 'www/deep/er/nested.html', 'nested page v1\n')
    await syncedFrontend(before)
    expect(await fetchPage(`${url}/deep/er/nested.html`, 'nested page v1', 10_000)).toContain(
      'nested page v1',
    )
    await expectNoRebuild(before)
  })

  steps.step('status, from another process, shows the synced files running ahead of the image', async () => {
    const {run, json} = await session.cli.json<{
      deployments: {name: string; live?: {files: number; since: string}}[]
      services: {url: string | null}[]
    }>(['status'])
    expectExit(run, 0)
    const frontend = json.deployments.find((deployment) => deployment.name === 'todo-frontend')
    expect(frontend?.live).toMatchObject({files: 2, since: frontendImage})
    const statusUrl = json.services.find((service) => service.url !== null)?.url ?? ''
    expect(await fetchPage(statusUrl, pageMarker('v2'), 10_000)).toContain(pageMarker('v2'))
  })

  steps.step(
    '(c) a target the container user cannot write falls back to a rebuild, with the fix',
    async () => {
      const {project} = session
      const before = events().length
      writeFileSync(path.join(project.dir, 'backend', 'www', 'index.html'), '<p>backend v2</p>\n')
      const fallback = await until(
        'the backend fallback',
        async () => eventsSince(before).find((event) => event.event === 'sync-fallback'),
        60_000,
      )
      expect(fallback.service).toBe('backend')
      expect(fallback.reason).toContain('/www')
      expect(fallback.fix).toContain('COPY --chown')
      await until(
        'the backend rebuild',
        async () => ((await helmRevision()) > revision ? true : undefined),
        6 * 60_000,
      )
      await until(
        'the rebuild iteration to finish',
        async () => eventsSince(before).find((event) => event.event === 'iteration-finished'),
        6 * 60_000,
      )
      const finished = eventsSince(before).find((event) => event.event === 'iteration-finished')
      expect(finished?.status).toBe('deployed')
      revision = await helmRevision()
      // Only the backend was rebuilt: the frontend pods still hold what was synced.
      expect(await session.tools.deploymentImage(project.namespace, 'todo-frontend')).toBe(frontendImage)
      expect(await fetchPage(url, pageMarker('v2'), 10_000)).toContain(pageMarker('v2'))
    },
  )

  steps.step('(d) a pod deleted during dev gets the synced files again', async () => {
    const {tools, project} = session
    const before = events().length
    const [victim, survivor] = await frontendPods()
    if (victim === undefined || survivor === undefined) throw new Error('expected 2 frontend pods')
    const deleted = await tools.kubectl(['-n', project.namespace, 'delete', 'pod', victim, '--wait=false'])
    expect(deleted.exitCode, deleted.stderr).toBe(0)
    const resynced = await until(
      'the re-sync of the new pod',
      async () =>
        eventsSince(before).find(
          (event) => event.event === 'synced' && (event.resynced?.pods.length ?? 0) > 0,
        ),
      3 * 60_000,
    )
    const replacement = resynced.resynced?.pods[0] ?? ''
    expect(replacement).not.toBe(victim)
    expect(resynced.resynced?.files).toBeGreaterThanOrEqual(2)
    const pods = await until(
      'two frontend pods again',
      async () => {
        const names = await frontendPods()
        return names.length === 2 && !names.includes(victim) ? names : undefined
      },
      2 * 60_000,
    )
    for (const pod of pods) {
      expect(await catInPod(pod, '/www/index.html')).toContain(pageMarker('v2'))
      expect(await catInPod(pod, '/www/deep/er/nested.html')).toContain('nested page v1')
    }
    // Either pod may answer: every GET serves the synced page.
    for (let round = 0; round < 6; round++)
      expect(await fetchPage(url, pageMarker('v2'), 0)).toContain(pageMarker('v2'))
    expect(await helmRevision()).toBe(revision)
  })

  steps.step('Ctrl-C stops dev (exit 0); nothing it printed holds a secret', async () => {
    dev?.interrupt()
    const run = await dev?.done
    if (run === undefined) throw new Error('dev was not started')
    expectExit(run, 0)
    const printed = session.cli.runs.map((cliRun) => `${cliRun.stdout}\n${cliRun.stderr}`).join('\n')
    expect(leakedSecretNames(printed, session.project.secrets)).toEqual([])
  })
})
