import {expect} from 'vitest'

import {imageOf, type UpJson} from './support/cli-results.js'
import {waitFor, type PodIdentity} from './support/cluster-tools.js'
import {pageMarker} from './support/e2e-project.js'
import {useE2eSession} from './support/e2e-session.js'
import {FlowSteps} from './support/flow-steps.js'
import {fetchPage} from './support/frontend-page.js'
import {describeOnCluster} from './support/opt-in.js'
import {expectExit, parseJson, type CliErrorJson} from './support/todo-deploy-cli.js'

/** Issue 4: `up` from nothing, after a change, with nothing changed, and with a backend that crashes. */
describeOnCluster(
  'up on a real cluster: deploy, update one service, no-op, failed rollout rolled back',
  () => {
    const session = useE2eSession()
    const steps = new FlowSteps()
    let url = ''
    let frontendV1 = ''
    let backendV1 = ''
    let frontendV2 = ''

    const deployed = async (deployment: 'todo-frontend' | 'todo-backend'): Promise<string> =>
      session.tools.deploymentImage(session.project.namespace, deployment)
    const pods = async (app: 'todo-frontend' | 'todo-backend'): Promise<PodIdentity[]> =>
      session.tools.pods(session.project.namespace, session.project.release, app)

    steps.step(
      'up installs both services and prints, as its last line, a URL that serves the frontend',
      async () => {
        const {cli, tools, project} = session
        const run = await cli.run(['up'])
        expectExit(run, 0)

        url = run.stdout.trim().split('\n').at(-1) ?? ''
        expect(url).toMatch(/^https?:\/\/\S+$/)
        expect(await fetchPage(url, pageMarker('v1'))).toContain(pageMarker('v1'))
        expect(await tools.helmStatus(project.namespace, project.release)).toMatchObject({
          revision: 1,
          status: 'deployed',
        })
        frontendV1 = await deployed('todo-frontend')
        backendV1 = await deployed('todo-backend')
        // Content tags, not `latest`: the tag is what makes updates and rollbacks bring the right code.
        expect(frontendV1).toMatch(new RegExp(`^${project.repository('frontend')}:[a-z0-9.-]+$`))
        expect(backendV1).toMatch(new RegExp(`^${project.repository('backend')}:[a-z0-9.-]+$`))
        expect(frontendV1).not.toMatch(/:latest$/)
      },
    )

    steps.step(
      'after a frontend change, up builds and loads only the frontend and rolls only its pods',
      async () => {
        const {cli, project} = session
        const backendPods = await pods('todo-backend')
        const frontendPods = await pods('todo-frontend')
        project.setFrontendPage('v2')

        const {run, json} = await cli.json<UpJson>(['up'])
        expectExit(run, 0)
        expect(json.state).toBe('Healthy')
        expect(json.helm).toMatchObject({action: 'upgrade', revision: 2})
        const frontend = imageOf(json, 'frontend')
        const backend = imageOf(json, 'backend')
        expect(frontend.built).toBe(true)
        // Built in the engine's BuildKit (DOCKER_BUILDKIT=0 chooses the classic builder): the engine kept
        // the first build's context, so only the edited page went to it, not busybox again.
        if (process.env.DOCKER_BUILDKIT !== '0') {
          expect(frontend.contextSent, 'BuildKit reports what it was sent').toMatchObject({files: 1})
          expect(frontend.contextSent?.bytes).toBeLessThan(1000)
        }
        // With docker-env the image is built inside the cluster: there is nothing to load.
        expect(frontend.loaded).toBe(json.imageLoad === 'load')
        expect(backend.built).toBe(false)
        expect(backend.loaded).toBe(false)
        expect(backend.ref).toBe(backendV1)

        frontendV2 = await deployed('todo-frontend')
        expect(frontendV2).toBe(frontend.ref)
        expect(frontendV2).not.toBe(frontendV1)
        expect(await deployed('todo-backend')).toBe(backendV1)
        expect(await pods('todo-backend')).toEqual(backendPods)
        const newFrontendNames = (await pods('todo-frontend')).map((pod) => pod.name)
        for (const old of frontendPods) expect(newFrontendNames).not.toContain(old.name)
        expect(await fetchPage(json.url ?? url, pageMarker('v2'))).toContain(pageMarker('v2'))
      },
    )

    steps.step(
      'up with nothing changed builds, loads and deploys nothing, and adds no Helm revision',
      async () => {
        const {cli, tools, project} = session
        const historyBefore = await tools.helmHistory(project.namespace, project.release)
        const podsBefore = [...(await pods('todo-frontend')), ...(await pods('todo-backend'))]

        const {run, json} = await cli.json<UpJson>(['up'])
        expectExit(run, 0)
        expect(json.state).toBe('Healthy')
        expect(json.helm).toMatchObject({action: 'skipped', revision: 2})
        for (const image of json.images) expect(image).toMatchObject({built: false, loaded: false})
        expect(await tools.helmHistory(project.namespace, project.release)).toEqual(historyBefore)
        expect([...(await pods('todo-frontend')), ...(await pods('todo-backend'))]).toEqual(podsBefore)
      },
    )

    steps.step(
      'a backend that crashes makes up exit 5 with a diagnosis, and the release is back on the previous revision',
      async () => {
        const {cli, tools, project} = session
        const backendPods = await pods('todo-backend')
        project.breakBackend()

        const run = await cli.run(['up', '--json'])
        expectExit(run, 5)
        const {error, result} = parseJson<CliErrorJson<UpJson>>(run)
        expect(error.exitCode).toBe(5)
        expect(result?.state).toBe('Failed')
        const diagnosis = result?.diagnosis
        expect(diagnosis).toMatchObject({deployment: 'todo-backend', container: 'backend'})
        expect(diagnosis?.pod).toMatch(/^todo-backend-/)
        expect(['CrashLoopBackOff', 'Error']).toContain(diagnosis?.reason)
        // The user reads the pod's name and the reason in the error itself, not only in the JSON result.
        const told = [error.message, ...error.details].join('\n')
        expect(told).toContain(diagnosis?.pod ?? 'the pod name')
        expect(told).toContain(diagnosis?.reason ?? 'the reason')
        expect(result?.rollback).toMatchObject({revision: 2, result: 'rolled-back'})

        expect(await tools.helmStatus(project.namespace, project.release)).toEqual({
          revision: 4,
          status: 'deployed',
          description: 'Rollback to 2',
        })
        expect(await deployed('todo-frontend')).toBe(frontendV2)
        expect(await deployed('todo-backend')).toBe(backendV1)
        // maxUnavailable 0: the working backend pod was never replaced; the crashing one is removed.
        await waitFor(
          'the crashing backend pod to be gone',
          async () => {
            const now = await pods('todo-backend')
            return JSON.stringify(now) === JSON.stringify(backendPods) ? now : undefined
          },
          {timeoutMs: 60_000},
        )
        expect(await fetchPage(url, pageMarker('v2'))).toContain(pageMarker('v2'))
      },
    )

    steps.step(
      'up --port-forward serves the app on 127.0.0.1 until Ctrl-C, which exits 0 and leaves it deployed',
      async () => {
        const {cli, tools, project} = session
        // The source still holds the crashing backend of the step before: put the working one back, whose
        // content tag revision 4 already runs, so this up deploys nothing and only forwards.
        project.repairBackend()
        const forwarding = cli.start(['up', '--port-forward', '--json'])
        // The result is printed once the forward answers; the process keeps forwarding.
        const result = await waitFor(
          'the forwarded URL',
          async () => {
            try {
              return JSON.parse(forwarding.output()) as UpJson & {forwarding?: boolean}
            } catch {
              return forwarding.finished ? ({} as UpJson) : undefined
            }
          },
          {timeoutMs: 5 * 60_000},
        )
        expect(result).toMatchObject({forwarding: true})
        expect(result.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect(await fetchPage(result.url ?? '', pageMarker('v2'))).toContain(pageMarker('v2'))
        expect(forwarding.finished).toBe(false)

        forwarding.interrupt()
        expectExit(await forwarding.done, 0)
        expect(await tools.helmStatus(project.namespace, project.release)).toMatchObject({revision: 4})
        expect(await fetchPage(url, pageMarker('v2'))).toContain(pageMarker('v2'))
      },
    )
  },
)
