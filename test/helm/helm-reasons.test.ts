import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {renderErrorView, toErrorView} from '../../src/cli/error-view.js'
import {DeployError, ExitCode} from '../../src/lib/errors.js'
import {HelmCli} from '../../src/lib/helm/helm-cli.js'
import type {UpgradeInstallRequest} from '../../src/lib/helm/helm-client.js'
import {failed, ScriptedRunner} from './helm-fixtures.js'

/** helm's answers recorded on a real cluster while another namespace's Service held nodePort 30080. */
function recorded(name: 'install' | 'upgrade'): {exitCode: number; stdout: string; stderr: string} {
  const dir = new URL('../fixtures/real-cluster/', import.meta.url)
  const exit = readFileSync(new URL(`helm-${name}-nodeport-taken.exit`, dir), 'utf8')
  return {
    exitCode: Number(/exit=(\d+)/.exec(exit)?.[1]),
    stdout: '',
    stderr: readFileSync(new URL(`helm-${name}-nodeport-taken.stderr`, dir), 'utf8'),
  }
}

const deploy: UpgradeInstallRequest = {
  release: 'todo',
  chart: './manifests/todo-chatbot',
  namespace: 'todo-app',
  valuesFiles: [],
  setString: {},
  historyMax: 10,
}

const REASON =
  'Service "todo-frontend-service" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated'

async function upgradeFailure(result: {
  exitCode: number
  stdout: string
  stderr: string
}): Promise<DeployError> {
  const error = await new HelmCli(new ScriptedRunner(result), {binary: 'helm'})
    .upgradeInstall(deploy)
    .catch((caught: unknown) => caught)
  expect(error).toBeInstanceOf(DeployError)
  return error as DeployError
}

describe('helm failures show their whole reason', () => {
  it.each(['install', 'upgrade'] as const)(
    'a taken nodePort (%s path): the reason in the human and --json output, and the nodePort fix',
    async (path) => {
      const error = await upgradeFailure(recorded(path))
      expect(error.exitCode).toBe(ExitCode.DeployFailed)
      const view = toErrorView(error)
      const json = JSON.parse(JSON.stringify(view)) as typeof view
      const human = renderErrorView(view, {color: false})
      expect(json.message).toContain(REASON)
      expect(human).toContain(REASON)
      expect(human).not.toMatch(/error occurred:\s*$/m)
      expect(view.fix).toContain('services.frontend.service.nodePort: null')
      expect(view.fix).toContain('30000-32767')
      expect(view.fix).not.toContain('todo-deploy status')
    },
  )

  it('several causes are each listed under the message', async () => {
    const error = await upgradeFailure(
      failed(
        'Error: INSTALLATION FAILED: 2 errors occurred:\n\t* Deployment.apps "todo-backend" is invalid: spec.replicas: Invalid value: -1\n\t* admission webhook "policy.example.com" denied the request: no latest tags\n\n\n',
      ),
    )
    expect(error.message).toBe('`helm upgrade --install` failed: INSTALLATION FAILED: 2 errors occurred:')
    expect(error.details).toEqual([
      '* Deployment.apps "todo-backend" is invalid: spec.replicas: Invalid value: -1',
      '* admission webhook "policy.example.com" denied the request: no latest tags',
    ])
    expect(error.fix).toContain('fix the value it names above')
  })

  it('a reason todo-deploy does not know keeps the generic fix', async () => {
    const error = await upgradeFailure(
      failed('Error: UPGRADE FAILED: the server could not find the requested resource\n'),
    )
    expect(error.message).toBe(
      '`helm upgrade --install` failed: UPGRADE FAILED: the server could not find the requested resource',
    )
    expect(error.fix).toBe('run `todo-deploy status` to see the release and its pods')
  })

  it('an object owned by something else names it and how to remove it', async () => {
    const error = await upgradeFailure(
      failed(
        'Error: INSTALLATION FAILED: rendered manifests contain a resource that already exists. Unable to continue with install: Service "todo-backend-service" in namespace "todo-app" exists and cannot be imported into the current release: invalid ownership metadata\n',
      ),
    )
    expect(error.fix).toContain('kubectl -n todo-app delete service todo-backend-service')
  })
})
