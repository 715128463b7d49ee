import {expect} from 'vitest'

import {useE2eSession} from './support/e2e-session.js'
import {FlowSteps} from './support/flow-steps.js'
import {describeOnCluster} from './support/opt-in.js'
import {leakedSecretNames} from './support/secret-leaks.js'
import {describeRun, expectExit} from './support/todo-deploy-cli.js'

/** `logs --json`: one of these per line (README "logs --json"). */
interface LogJsonLine {
  service: 'frontend' | 'backend'
  pod: string
  container: string
  time: string | null
  line: string
}

/** Issue 12: `logs --since 1m` shows both services; --follow ends with Ctrl-C, exit 0. */
describeOnCluster('logs on a real cluster: both services, prefixed, followed until Ctrl-C', () => {
  const session = useE2eSession()
  const steps = new FlowSteps()

  steps.step('up deploys the app (busybox httpd -vv logs every probe request)', async () => {
    expectExit(await session.cli.run(['up']), 0)
  })

  steps.step('logs --since 1m shows lines of both services, each from its own pods', async () => {
    // The probes run every 2 s: within a minute each service has logged requests.
    const run = await session.cli.run(['logs', '--since', '1m', '--json'])
    expectExit(run, 0)
    const lines = run.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogJsonLine)
    for (const service of ['frontend', 'backend'] as const) {
      const own = lines.filter((line) => line.service === service)
      expect(own.length, describeRun(run)).toBeGreaterThan(0)
      for (const line of own) {
        expect(line.pod).toMatch(new RegExp(`^todo-${service}-`))
        expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT/)
      }
    }
    const human = await session.cli.run(['logs', 'backend', '--since', '1m'])
    expectExit(human, 0)
    expect(human.stdout).toMatch(/^backend {2}[a-z0-9]{4}-[a-z0-9]{5} │ /m)
    expect(human.stdout).not.toMatch(/^frontend /m)
  })

  steps.step('logs -f streams new lines and Ctrl-C ends it with exit 0', async () => {
    const running = session.cli.start(['logs', '-f', '--tail', '0'])
    await new Promise((resolve) => setTimeout(resolve, 8000))
    running.interrupt()
    const run = await running.done
    expectExit(run, 0)
    expect(run.stdout, describeRun(run)).toMatch(/^(frontend|backend) +\S+ │ /m)
  })

  steps.step('no secret value in anything logs printed', async () => {
    const printed = session.cli.runs.map((run) => `${run.stdout}\n${run.stderr}`).join('\n')
    expect(leakedSecretNames(printed, session.project.secrets)).toEqual([])
  })
})
