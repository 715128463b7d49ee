import {expect} from 'vitest'

import type {DownJson, StatusJson, UpJson} from './support/cli-results.js'
import {waitFor} from './support/cluster-tools.js'
import {pageMarker} from './support/e2e-project.js'
import {useE2eSession} from './support/e2e-session.js'
import {FlowSteps} from './support/flow-steps.js'
import {fetchPage} from './support/frontend-page.js'
import {describeOnCluster} from './support/opt-in.js'
import {helmReleaseRecord, leakedSecretNames} from './support/secret-leaks.js'
import {describeRun, expectExit, parseJson, type CliErrorJson} from './support/todo-deploy-cli.js'

interface Lease {
  spec?: {holderIdentity?: string}
}

interface SecretList {
  items: {metadata: {name: string}; type: string; data?: Record<string, string>}[]
}

/** Issue 6: one operation at a time, Ctrl-C that leaves a release the next `up` completes, secrets kept secret. */
describeOnCluster(
  'safety on a real cluster: the release lock, Ctrl-C during the rollout, secrets only in the Secret',
  () => {
    const session = useE2eSession()
    const steps = new FlowSteps()
    const SLOW_READINESS_SECONDS = 20

    /** The last revision Helm finished deploying, to know when an `up` has passed Helm and waits for the rollout. */
    const deployedRevision = async (): Promise<number> => {
      const status = await session.tools.helmStatus(session.project.namespace, session.project.release)
      return status?.status === 'deployed' ? status.revision : 0
    }

    steps.step('up deploys the app (human output, --verbose)', async () => {
      const run = await session.cli.run(['up', '--verbose'])
      expectExit(run, 0)
      expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^https?:\/\//)
    })

    steps.step(
      'a second up while one runs is refused at once with exit 5, naming the holder of the lock',
      async () => {
        const {cli, tools, project} = session
        // A slow rollout keeps the first run (and its lock) busy for at least SLOW_READINESS_SECONDS.
        project.setFrontendPage('v2')
        project.setReadinessDelay('frontend', SLOW_READINESS_SECONDS)
        const first = cli.start(['up', '--json'])
        await waitFor(
          'the first up to take the lock',
          async () => {
            if (first.finished)
              throw new Error(
                `the first up ended before it was seen holding the lock:\n${describeRun(await first.done)}`,
              )
            const lease = await tools.kubectl([
              '-n',
              project.namespace,
              'get',
              'lease',
              `todo-deploy-lock-${project.release}`,
              '-o',
              'json',
            ])
            if (lease.exitCode !== 0) return undefined
            return (JSON.parse(lease.stdout) as Lease).spec?.holderIdentity?.includes(`pid ${first.pid}`)
              ? true
              : undefined
          },
          {timeoutMs: 5 * 60_000},
        )

        const second = await cli.run(['up', '--json'])
        const firstStillRunning = !first.finished
        expectExit(second, 5)
        expect(firstStillRunning).toBe(true)
        const {error} = parseJson<CliErrorJson>(second)
        expect(error.exitCode).toBe(5)
        expect(error.message).toMatch(/locked/)
        expect(error.message).toContain(`pid ${first.pid}`)
        expect(error.message).toContain('todo-deploy up')

        const firstRun = await first.done
        expectExit(firstRun, 0)
        expect(parseJson<UpJson>(firstRun).state).toBe('Healthy')
      },
    )

    steps.step('Ctrl-C during the rollout exits 130, and the next up completes the deploy', async () => {
      const {cli, tools, project} = session
      const revisionBefore = await deployedRevision()
      project.setFrontendPage('v3')
      const interrupted = cli.start(['up', '--json'])
      // Past Helm (a new revision is deployed), the run is in the rollout for SLOW_READINESS_SECONDS.
      await waitFor(
        'up to deploy a new Helm revision',
        async () => {
          if (interrupted.finished)
            throw new Error(`up ended before the rollout:\n${describeRun(await interrupted.done)}`)
          return (await deployedRevision()) > revisionBefore ? true : undefined
        },
        {timeoutMs: 5 * 60_000},
      )
      interrupted.interrupt()
      const run = await interrupted.done
      expectExit(run, 130)
      expect(parseJson<CliErrorJson<UpJson>>(run).error.exitCode).toBe(130)
      expect(await tools.helmStatus(project.namespace, project.release)).toMatchObject({status: 'deployed'})

      const {run: next, json} = await cli.json<UpJson>(['up'])
      expectExit(next, 0)
      expect(json.state).toBe('Healthy')
      expect(await tools.deploymentImage(project.namespace, 'todo-frontend')).toBe(
        json.images.find((image) => image.service === 'frontend')?.ref,
      )
      expect(await fetchPage(json.url ?? '', pageMarker('v3'))).toContain(pageMarker('v3'))
    })

    steps.step(
      'the secret values are in the Kubernetes Secret (base64) and nowhere else in the cluster',
      async () => {
        const {cli, tools, project} = session
        const status = await cli.json<StatusJson>(['status'])
        expectExit(status.run, 0)
        expect(status.json.state).toBe('Healthy')
        const secrets = project.secrets
        const release = ['-n', project.namespace, project.release]

        expect(
          leakedSecretNames(
            await tools.helmText(['get', 'values', '--all', '-o', 'json', ...release]),
            secrets,
          ),
        ).toEqual([])
        expect(leakedSecretNames(await tools.helmText(['get', 'manifest', ...release]), secrets)).toEqual([])
        const stateRecord = await tools.kubectlJson<unknown>([
          '-n',
          project.namespace,
          'get',
          'configmap',
          `todo-deploy-state-${project.release}`,
        ])
        expect(leakedSecretNames(JSON.stringify(stateRecord), secrets)).toEqual([])
        const everythingElse = await tools.kubectlJson<unknown>([
          '-n',
          project.namespace,
          'get',
          'configmaps,deployments,replicasets,pods,services,leases,events',
        ])
        expect(leakedSecretNames(JSON.stringify(everythingElse), secrets)).toEqual([])

        const all = await tools.kubectlJson<SecretList>(['-n', project.namespace, 'get', 'secrets'])
        const appSecret = all.items.find((secret) => secret.metadata.name === 'todo-app-secrets')
        for (const [name, value] of Object.entries(secrets)) {
          expect(appSecret?.data?.[name], name).toBe(Buffer.from(value).toString('base64'))
        }
        const helmRecords = all.items.filter((secret) => secret.type === 'helm.sh/release.v1')
        expect(helmRecords.length).toBeGreaterThan(0)
        for (const record of helmRecords) {
          const stored = helmReleaseRecord(record.data?.release ?? '')
          expect(stored, record.metadata.name).toContain(`"name":"${project.release}"`)
          expect(leakedSecretNames(stored, secrets), record.metadata.name).toEqual([])
        }
        for (const secret of all.items.filter(
          (item) => item !== appSecret && item.type !== 'helm.sh/release.v1',
        )) {
          expect(leakedSecretNames(JSON.stringify(secret), secrets), secret.metadata.name).toEqual([])
        }
      },
    )

    steps.step('down removes the release, and no command printed a secret on stdout or stderr', async () => {
      const {cli, project} = session
      const {run, json} = await cli.json<DownJson>(['down', '--yes', '--purge'])
      expectExit(run, 0)
      expect(json.uninstalled).toBe(true)

      const commands = cli.runs.map((each) => each.args[0])
      for (const command of ['up', 'status', 'down']) expect(commands).toContain(command)
      for (const each of cli.runs) {
        expect(
          leakedSecretNames(`${each.stdout}\n${each.stderr}`, project.secrets),
          `todo-deploy ${each.args.join(' ')}`,
        ).toEqual([])
      }
    })
  },
)
