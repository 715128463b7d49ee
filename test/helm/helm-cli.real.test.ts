import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseAllDocuments, stringify} from 'yaml'

import {BadInputError, PrerequisiteError} from '../../src/lib/errors.js'
import {HelmCli} from '../../src/lib/helm/helm-cli.js'
import {ReleasePendingError} from '../../src/lib/helm/helm-errors.js'
import {inspectRelease, planPendingRecovery} from '../../src/lib/helm/release-state.js'
import {
  ExecaProcessRunner,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
} from '../../src/lib/process/runner.js'
import {HELM_MAJORS, helmBinary} from '../support/helm-binaries.js'
import {fixtureChart, fixtureText} from './helm-fixtures.js'

/**
 * The real helm 3.17 and 4.1 binaries through the real ExecaProcessRunner. There is no cluster here, so
 * stored releases come from helm's own memory storage driver (HELM_DRIVER=memory), loaded with the
 * revisions of the recorded stuck release (06-pending-upgrade); the kube context points at a port where
 * nothing listens. Reads, rollback and uninstall of a release with no resources need no cluster.
 */

/** The real runner, with the environment of this sandbox added to every call. */
class SandboxRunner implements ProcessRunner {
  private readonly real = new ExecaProcessRunner()
  constructor(private readonly env: Record<string, string>) {}
  run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return this.real.run(file, args, {...options, env: {...options.env, ...this.env}})
  }
}

const NAMESPACE = 'fx-helm'
const CONTEXT = 'test-ctx'
let sandbox: string

/** helm's stored release objects for the rows of a recorded `helm history -o json`. */
function storedReleases(): unknown[] {
  const rows = JSON.parse(fixtureText('06-pending-upgrade/helm-history-o-json.json')) as Array<{
    revision: number
    updated: string
    status: string
    description: string
  }>
  const tags = ['v1', 'v2', 'v9-never-loaded', 'v2', 'v9-never-loaded']
  const chart = {metadata: {apiVersion: 'v2', name: 'todo', version: '0.1.0', appVersion: '1.0.0'}}
  const fx = rows.map((row, index) => ({
    name: 'fx',
    namespace: NAMESPACE,
    version: row.revision,
    info: {
      first_deployed: rows[0]?.updated,
      last_deployed: row.updated,
      status: row.status,
      description: row.description,
    },
    chart,
    config: {image: {tag: tags[index]}},
    manifest: '',
  }))
  const bare = {
    name: 'bare',
    namespace: NAMESPACE,
    version: 1,
    info: {status: 'deployed', description: 'Install complete'},
    chart,
    manifest: '',
  }
  return [...fx, bare]
}

beforeAll(() => {
  sandbox = mkdtempSync(path.join(tmpdir(), 'todo-deploy-helm-'))
  writeFileSync(path.join(sandbox, 'releases.yaml'), stringify(storedReleases()))
  writeFileSync(
    path.join(sandbox, 'kubeconfig'),
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'nowhere', cluster: {server: 'https://127.0.0.1:1'}}],
      contexts: [{name: CONTEXT, context: {cluster: 'nowhere', user: 'nobody'}}],
      users: [{name: 'nobody', user: {token: 'not-a-real-token'}}],
      'current-context': CONTEXT,
    }),
  )
})

afterAll(() => {
  rmSync(sandbox, {recursive: true, force: true})
})

function sandboxEnv(): Record<string, string> {
  return {
    KUBECONFIG: path.join(sandbox, 'kubeconfig'),
    HELM_DRIVER: 'memory',
    HELM_MEMORY_DRIVER_DATA: path.join(sandbox, 'releases.yaml'),
    HELM_CACHE_HOME: path.join(sandbox, 'cache'),
    HELM_CONFIG_HOME: path.join(sandbox, 'config'),
    HELM_DATA_HOME: path.join(sandbox, 'data'),
  }
}

describe.each(HELM_MAJORS)('HelmCli against the real helm %s', (major) => {
  const binary = helmBinary(major)
  const helm = (): HelmCli => new HelmCli(new SandboxRunner(sandboxEnv()), {binary, kubeContext: CONTEXT})
  const values = {
    release: 'fx',
    chart: fixtureChart,
    namespace: NAMESPACE,
    valuesFiles: [],
    setString: {'image.tag': 'c0ffee12'},
  }

  it('version() reads the binary’s major', async () => {
    const version = await new HelmCli(new ExecaProcessRunner(), {binary}).version()
    expect(version.major).toBe(major === 'v3' ? 3 : 4)
    expect(version.version).toMatch(major === 'v3' ? /^v3\.17\./ : /^v4\.1\./)
  })

  it('template() renders the fixture chart with the --set-string tag and a --set override', async () => {
    const yaml = await helm().template({...values, set: ['replicaCount=3']})
    const objects = parseAllDocuments(yaml).map(
      (document) => document.toJS() as {kind: string; spec: Record<string, unknown>},
    )
    expect(objects.map((object) => object.kind)).toEqual(['Service', 'Deployment'])
    expect(yaml).toContain('image: "fx-web:c0ffee12"')
    expect(objects[1]?.spec.replicas).toBe(3)
  })

  it('template() reports a missing values file as bad input', async () => {
    await expect(
      helm().template({...values, valuesFiles: [path.join(sandbox, 'missing.yaml')]}),
    ).rejects.toThrow(BadInputError)
  })

  it('lint() passes the fixture chart and fails a chart without a version', async () => {
    const good = await helm().lint(fixtureChart, [])
    expect(good.ok).toBe(true)
    expect(good.messages).toContainEqual({severity: 'info', text: 'Chart.yaml: icon is recommended'})

    const broken = path.join(sandbox, `broken-${major}`)
    cpSync(fixtureChart, broken, {recursive: true})
    const chartYaml = path.join(broken, 'Chart.yaml')
    writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version:.*$/m, ''))
    const bad = await helm().lint(broken, [])
    expect(bad.ok).toBe(false)
    expect(bad.messages).toContainEqual({severity: 'error', text: 'Chart.yaml: version is required'})
  })

  it('history() and status() read the stuck release; absent releases give [] and null', async () => {
    const history = await helm().history('fx', NAMESPACE)
    expect(history.map((row) => row.status)).toEqual([
      'superseded',
      'superseded',
      'failed',
      'deployed',
      'pending-upgrade',
    ])
    expect(history[2]?.description).toBe('Upgrade "fx" failed: context deadline exceeded')
    expect(await helm().status('fx', NAMESPACE)).toMatchObject({
      name: 'fx',
      namespace: NAMESPACE,
      revision: 5,
      status: 'pending-upgrade',
    })
    expect(await helm().history('absent', NAMESPACE)).toEqual([])
    expect(await helm().status('absent', NAMESPACE)).toBeNull()
  })

  it('getValues() reads a revision’s values, and {} where helm prints null', async () => {
    expect(await helm().getValues('fx', NAMESPACE)).toEqual({image: {tag: 'v9-never-loaded'}})
    expect(await helm().getValues('fx', NAMESPACE, {revision: 2})).toEqual({image: {tag: 'v2'}})
    expect(await helm().getValues('bare', NAMESPACE)).toEqual({})
  })

  it('upgradeInstall() on the stuck release fails with ReleasePendingError (the flags are accepted)', async () => {
    const error = await helm()
      .upgradeInstall({...values, historyMax: 10})
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ReleasePendingError)
  })

  it('upgradeInstall() of a new release without a reachable cluster names the context', async () => {
    const error = await helm()
      .upgradeInstall({...values, release: 'fresh', historyMax: 10})
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).where).toBe(`kube context "${CONTEXT}"`)
  })

  it('rollback() to a revision that does not exist is bad input; the recovery plan’s rollback succeeds', async () => {
    await expect(helm().rollback('fx', 99, NAMESPACE)).rejects.toThrow(/has no revision 99/)
    const plan = planPendingRecovery(inspectRelease(await helm().history('fx', NAMESPACE)))
    expect(plan).toEqual({action: 'rollback', revision: 4})
    await expect(helm().rollback('fx', 4, NAMESPACE)).resolves.toBeUndefined()
  })

  it('uninstall() reports whether the release existed', async () => {
    expect(await helm().uninstall('bare', NAMESPACE)).toEqual({existed: true})
    expect(await helm().uninstall('absent', NAMESPACE)).toEqual({existed: false})
  })
})

it('version() with no helm at that path is a prerequisite error with the install hint', async () => {
  const error = await new HelmCli(new ExecaProcessRunner(), {binary: '/nonexistent/helm'})
    .version()
    .catch((caught: unknown) => caught)
  expect(error).toBeInstanceOf(PrerequisiteError)
  expect((error as PrerequisiteError).fix).toContain('https://helm.sh/docs/intro/install/')
})
