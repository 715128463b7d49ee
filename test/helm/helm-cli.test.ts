import {createHash} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {
  BadInputError,
  DeployError,
  ExitCode,
  InterruptedError,
  PrerequisiteError,
  TodoDeployError,
} from '../../src/lib/errors.js'
import {HelmCli, maskedValues} from '../../src/lib/helm/helm-cli.js'
import {ReleasePendingError} from '../../src/lib/helm/helm-errors.js'
import type {UpgradeInstallRequest} from '../../src/lib/helm/helm-client.js'
import {failed, fixtureText, ok, recordedRun, ScriptedRunner} from './helm-fixtures.js'

const timeouts = {queryMs: 10_000, changeMs: 120_000}

/** `null`: no kube context configured. */
function helm(
  runner: ScriptedRunner,
  kubeContext: string | null = 'minikube',
  log?: (line: string) => void,
): HelmCli {
  return new HelmCli(runner, {binary: '/opt/helm', kubeContext: kubeContext ?? undefined, timeouts, log})
}

const deploy: UpgradeInstallRequest = {
  release: 'todo',
  chart: './manifests/todo-chatbot',
  namespace: 'todo-app',
  valuesFiles: ['values.yaml', 'values-dev.yaml'],
  setString: {'frontend.image.tag': 'c0ffee12', 'backend.image.tag': 'be5ade99'},
  set: ['backend.replicaCount=2'],
  historyMax: 10,
}

describe('HelmCli command lines', () => {
  it('upgradeInstall: upgrade --install with namespace, context, values in order, history-max, no --wait', async () => {
    const runner = new ScriptedRunner(recordedRun('02-upgrade/helm-upgrade.result.json'))
    const result = await helm(runner).upgradeInstall(deploy)
    expect(runner.calls[0]?.file).toBe('/opt/helm')
    expect(runner.args).toEqual([
      'upgrade',
      '--install',
      'todo',
      './manifests/todo-chatbot',
      '--namespace',
      'todo-app',
      '--kube-context',
      'minikube',
      '-f',
      'values.yaml',
      '-f',
      'values-dev.yaml',
      '--set-string',
      'frontend.image.tag=c0ffee12',
      '--set-string',
      'backend.image.tag=be5ade99',
      '--set',
      'backend.replicaCount=2',
      '--history-max',
      '10',
      '--timeout',
      '120s',
    ])
    expect(result).toEqual({revision: 2})
  })

  it('uses no flag that exists in only one helm major, and never creates the namespace', async () => {
    const runner = new ScriptedRunner(ok(''))
    await helm(runner).upgradeInstall(deploy)
    for (const flag of ['--wait', '--atomic', '--rollback-on-failure', '--create-namespace'])
      expect(runner.args).not.toContain(flag)
  })

  it('leaves --kube-context out when no context is set (helm uses the current one)', async () => {
    const runner = new ScriptedRunner(ok('null'))
    await helm(runner, null).getValues('todo', 'todo-app')
    expect(runner.args).toEqual(['get', 'values', 'todo', '--namespace', 'todo-app', '-o', 'json'])
  })

  it('gives helm its own timeout and kills it only after a margin, so helm records a failure instead of a pending lock', async () => {
    const runner = new ScriptedRunner(ok(''))
    await helm(runner).upgradeInstall(deploy)
    expect(runner.calls[0]?.options.timeoutMs).toBeGreaterThan(timeouts.changeMs)
  })

  it('escapes commas and backslashes in --set-string values (helm splits on commas)', async () => {
    const runner = new ScriptedRunner(ok(''))
    await helm(runner).upgradeInstall({...deploy, setString: {'config.origins': 'a,b\\c'}, set: []})
    expect(runner.args).toContain('config.origins=a\\,b\\\\c')
  })

  it.each([
    [
      'status',
      (cli: HelmCli) => cli.status('todo', 'ns'),
      ['status', 'todo', '--namespace', 'ns', '--kube-context', 'minikube', '-o', 'json'],
      fixtureText('02-upgrade/helm-status-o-json.json'),
    ],
    [
      'history',
      (cli: HelmCli) => cli.history('todo', 'ns'),
      ['history', 'todo', '--namespace', 'ns', '--kube-context', 'minikube', '-o', 'json'],
      fixtureText('02-upgrade/helm-history-o-json.json'),
    ],
    [
      'get values --all --revision',
      (cli: HelmCli) => cli.getValues('todo', 'ns', {all: true, revision: 2}),
      [
        'get',
        'values',
        'todo',
        '--namespace',
        'ns',
        '--kube-context',
        'minikube',
        '-o',
        'json',
        '--all',
        '--revision',
        '2',
      ],
      'null',
    ],
    [
      'rollback',
      (cli: HelmCli) => cli.rollback('todo', 2, 'ns'),
      ['rollback', 'todo', '2', '--namespace', 'ns', '--kube-context', 'minikube', '--timeout', '120s'],
      'Rollback was a success! Happy Helming!\n',
    ],
    [
      'uninstall',
      (cli: HelmCli) => cli.uninstall('todo', 'ns'),
      ['uninstall', 'todo', '--namespace', 'ns', '--kube-context', 'minikube', '--timeout', '120s'],
      'release "todo" uninstalled\n',
    ],
    ['version', (cli: HelmCli) => cli.version(), ['version', '--short'], 'v4.1.4+g05fa379\n'],
    [
      'lint',
      (cli: HelmCli) => cli.lint('chart', ['values-dev.yaml']),
      ['lint', 'chart', '-f', 'values-dev.yaml'],
      '1 chart(s) linted, 0 chart(s) failed\n',
    ],
  ])('%s', async (_name, call, expected, stdout) => {
    const runner = new ScriptedRunner(ok(stdout))
    await call(helm(runner))
    expect(runner.args).toEqual(expected)
  })

  it('template: renders with the same values flags as the deploy, and returns helm’s YAML', async () => {
    const runner = new ScriptedRunner(ok('---\nkind: Service\n'))
    const {historyMax: _historyMax, ...values} = deploy
    expect(await helm(runner).template(values)).toBe('---\nkind: Service\n')
    expect(runner.args).toEqual([
      'template',
      'todo',
      './manifests/todo-chatbot',
      '--namespace',
      'todo-app',
      '--kube-context',
      'minikube',
      '-f',
      'values.yaml',
      '-f',
      'values-dev.yaml',
      '--set-string',
      'frontend.image.tag=c0ffee12',
      '--set-string',
      'backend.image.tag=be5ade99',
      '--set',
      'backend.replicaCount=2',
    ])
  })

  it('streams helm’s lines to onLine and passes the abort signal down', async () => {
    const runner = new ScriptedRunner(ok(''))
    const lines: string[] = []
    const signal = new AbortController().signal
    await helm(runner).upgradeInstall({...deploy, signal, onLine: (line) => lines.push(line)})
    runner.calls[0]?.options.onLine?.('Release "todo" has been upgraded.', 'stdout')
    expect(lines).toEqual(['Release "todo" has been upgraded.'])
    expect(runner.calls[0]?.options.signal).toBe(signal)
  })
})

describe('HelmCli results', () => {
  it('status: the release, or null when helm says "release: not found" (05)', async () => {
    expect(
      await helm(new ScriptedRunner(ok(fixtureText('06-pending-upgrade/helm-status-o-json.json')))).status(
        'fx',
        'fx-helm',
      ),
    ).toMatchObject({
      revision: 5,
      status: 'pending-upgrade',
    })
    expect(
      await helm(
        new ScriptedRunner(recordedRun('05-errors/helm-status-nonexistent-release.result.json')),
      ).status('fx', 'fx-helm'),
    ).toBeNull()
  })

  it('history: [] when the release does not exist (05)', async () => {
    expect(
      await helm(
        new ScriptedRunner(recordedRun('05-errors/helm-history-nonexistent-release.result.json')),
      ).history('fx', 'fx-helm'),
    ).toEqual([])
  })

  it('uninstall: existed true on success (07), false when helm 3 or 4 finds no release', async () => {
    expect(
      await helm(new ScriptedRunner(recordedRun('07-uninstall/helm-uninstall.result.json'))).uninstall(
        'fx',
        'fx-helm',
      ),
    ).toEqual({existed: true})
    for (const major of ['v3', 'v4']) {
      const runner = new ScriptedRunner(recordedRun(`local/helm-${major}-uninstall-not-found.result.json`))
      expect(await helm(runner).uninstall('fx', 'fx-helm')).toEqual({existed: false})
    }
  })

  it('lint: ok with its messages, or not ok with the error helm printed', async () => {
    const good = await helm(
      new ScriptedRunner(
        ok(
          '==> Linting chart\n[INFO] Chart.yaml: icon is recommended\n\n1 chart(s) linted, 0 chart(s) failed\n',
        ),
      ),
    ).lint('chart', [])
    expect(good).toEqual({ok: true, messages: [{severity: 'info', text: 'Chart.yaml: icon is recommended'}]})
    const bad = await helm(
      new ScriptedRunner(failed('Error: open /nonexist.yaml: no such file or directory\n')),
    ).lint('chart', ['/nonexist.yaml'])
    expect(bad).toEqual({
      ok: false,
      messages: [{severity: 'error', text: 'open /nonexist.yaml: no such file or directory'}],
    })
  })
})

describe('HelmCli error mapping (recorded stderr)', () => {
  it('another operation in progress (06) -> ReleasePendingError, exit 5, fix names `todo-deploy up --force`', async () => {
    const error = await helm(
      new ScriptedRunner(recordedRun('06-pending-upgrade/helm-upgrade-while-pending.result.json')),
    )
      .upgradeInstall({...deploy, release: 'fx', namespace: 'fx-helm'})
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ReleasePendingError)
    expect(error).toMatchObject({exitCode: ExitCode.DeployFailed, where: 'release fx in namespace fx-helm'})
    expect((error as ReleasePendingError).fix).toContain('todo-deploy up --force')
  })

  it('release has no 99 version (05) -> BadInputError exit 2 naming the revision', async () => {
    const error = await helm(
      new ScriptedRunner(recordedRun('05-errors/helm-rollback-nonexistent-revision.result.json')),
    )
      .rollback('fx', 99, 'fx-helm')
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(BadInputError)
    expect(error).toMatchObject({exitCode: ExitCode.BadInput, message: 'release "fx" has no revision 99'})
  })

  it.each(['v3', 'v4'])(
    'cluster unreachable (helm %s text) -> PrerequisiteError exit 3 naming the context',
    async (major) => {
      const error = await helm(
        new ScriptedRunner(recordedRun(`local/helm-${major}-status-no-cluster.result.json`)),
        'minikube',
      )
        .status('fx', 'fx-helm')
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(PrerequisiteError)
      expect(error).toMatchObject({exitCode: ExitCode.Prerequisite, where: 'kube context "minikube"'})
      expect((error as PrerequisiteError).message).toContain('minikube')
    },
  )

  it('a connection refused while installing -> PrerequisiteError naming the current context when none is set', async () => {
    const stderr =
      'Error: could not get server version from Kubernetes: Get "https://127.0.0.1:1/version?timeout=32s": dial tcp 127.0.0.1:1: connect: connection refused\n'
    const error = await helm(new ScriptedRunner(failed(stderr)), null)
      .upgradeInstall(deploy)
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({
      exitCode: ExitCode.Prerequisite,
      message: 'helm cannot reach the cluster of the current kube context',
    })
  })

  it('UPGRADE FAILED (03) -> DeployError exit 5 with helm’s message', async () => {
    const error = await helm(new ScriptedRunner(recordedRun('03-failed-upgrade/helm-upgrade.result.json')))
      .upgradeInstall(deploy)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DeployError)
    expect(error).toMatchObject({exitCode: ExitCode.DeployFailed})
    expect((error as DeployError).message).toContain('UPGRADE FAILED: context deadline exceeded')
  })

  it.each([130, 137, 143])(
    'a helm stopped by a signal (exit %i, as the killed upgrade of 06) -> InterruptedError',
    async (exitCode) => {
      const error = await helm(new ScriptedRunner({exitCode, stdout: '', stderr: ''}))
        .upgradeInstall(deploy)
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(InterruptedError)
      expect((error as InterruptedError).fix).toContain('todo-deploy up --force')
    },
  )

  it('an aborted call is an interruption whatever helm’s exit code', async () => {
    const controller = new AbortController()
    controller.abort()
    const error = await helm(new ScriptedRunner(failed('Error: context canceled')))
      .rollback('fx', 2, 'fx-helm', {signal: controller.signal})
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(InterruptedError)
  })

  it('rollback or getValues of a release that does not exist -> BadInputError', async () => {
    const notFound = recordedRun('05-errors/helm-status-nonexistent-release.result.json')
    await expect(
      helm(new ScriptedRunner(notFound)).rollback('fx-does-not-exist', 1, 'fx-helm'),
    ).rejects.toThrow(/does not exist in namespace fx-helm/)
    await expect(
      helm(new ScriptedRunner(notFound)).getValues('fx-does-not-exist', 'fx-helm'),
    ).rejects.toBeInstanceOf(BadInputError)
  })

  it('template errors are bad input (exit 2) carrying helm’s message', async () => {
    const stderr =
      'Error: template: todo/templates/bad.yaml:1:14: executing "todo/templates/bad.yaml" at <.Values.nope.deeper>: nil pointer evaluating interface {}.deeper\n'
    const {historyMax: _historyMax, ...values} = deploy
    const error = await helm(new ScriptedRunner(failed(stderr)))
      .template(values)
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({exitCode: ExitCode.BadInput})
    expect((error as Error).message).toContain('nil pointer evaluating interface {}.deeper')
  })

  it('helm missing from PATH -> PrerequisiteError with the install hint', async () => {
    const runnerError = new PrerequisiteError('/opt/helm was not found on PATH', {
      fix: 'install /opt/helm and make sure it is on PATH',
    })
    const error = await helm(new ScriptedRunner(runnerError))
      .version()
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).fix).toContain('https://helm.sh/docs/intro/install/')
  })

  it('a hung helm names the operation, not the command line with its values', async () => {
    const runnerError = new TodoDeployError(
      ExitCode.Prerequisite,
      '`/opt/helm upgrade --install todo` did not answer within 150s',
      {
        fix: 'check that /opt/helm works on its own: run `/opt/helm upgrade --install todo chart --set-string frontend.image.tag=c0ffee12` in a terminal',
      },
    )
    const error = (await helm(new ScriptedRunner(runnerError))
      .upgradeInstall(deploy)
      .catch((caught: unknown) => caught)) as TodoDeployError
    expect(error.message).toBe('`helm upgrade --install` did not finish within 150s')
    expect(JSON.stringify({message: error.message, fix: error.fix, where: error.where})).not.toContain(
      'c0ffee12',
    )
  })
})

describe('secrets never reach helm, its logs or its errors', () => {
  const secret = 'test-secret-value'

  it('the deploy API takes only tags and a checksum: no argument helm receives holds the secret', async () => {
    // What the lifecycle passes: content tags and the Secret's checksum (the Secret itself is applied by the CLI).
    const checksum = createHash('sha256').update(`DATABASE_URL=${secret}`).digest('hex')
    const runner = new ScriptedRunner(ok(''))
    await helm(runner).upgradeInstall({
      ...deploy,
      setString: {'backend.image.tag': 'be5ade99', 'backend.secretChecksum': checksum},
    })
    const sent = JSON.stringify(runner.calls)
    expect(sent).toContain(checksum)
    expect(sent).not.toContain(secret)
    expect(sent).not.toContain(Buffer.from(secret).toString('base64'))
  })

  it('masks values of keys under secrets. in the logged command line, streamed lines and errors', async () => {
    const logged: string[] = []
    const lines: string[] = []
    const runner = new ScriptedRunner(
      failed(
        `Error: UPGRADE FAILED: values don't meet the specifications of the schema: secrets.apiKey: "${secret}" is too short\n`,
      ),
    )
    const error = await helm(runner, 'minikube', (line) => logged.push(line))
      .upgradeInstall({
        ...deploy,
        setString: {'secrets.apiKey': secret, 'backend.image.tag': 'be5ade99'},
        onLine: (line) => lines.push(line),
      })
      .catch((caught: unknown) => caught)
    runner.calls[0]?.options.onLine?.(`rendering secrets.apiKey=${secret}`, 'stderr')
    expect(logged).toHaveLength(1)
    expect(logged[0]).toContain('--set-string secrets.apiKey=*** --set-string backend.image.tag=be5ade99')
    expect(lines).toEqual(['rendering secrets.apiKey=***'])
    expect(error).toBeInstanceOf(DeployError)
    const shown = JSON.stringify({
      message: (error as DeployError).message,
      details: (error as DeployError).details,
      fix: (error as DeployError).fix,
    })
    expect(shown).toContain('UPGRADE FAILED')
    expect(shown).not.toContain(secret)
  })

  it('maskedValues picks secret-looking keys in --set lists too, and nothing else', () => {
    expect(
      maskedValues([
        '--set-string',
        'backend.image.tag=abc',
        '--set',
        'a=1,db.password=hunter2-fake',
        '--set-string',
        'secrets.token=x\\,y',
      ]),
    ).toEqual(['hunter2-fake', 'x\\,y', 'x,y'])
  })
})
