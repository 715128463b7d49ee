import {readFileSync} from 'node:fs'
import path from 'node:path'

import {parse as parseYaml} from 'yaml'

import {DeployError} from '../../../src/lib/errors.js'
import type {
  GetValuesOptions,
  HelmClient,
  HelmVersion,
  LintResult,
  ReleaseInfo,
  ReleaseRevision,
  ReleaseStatus,
  ReleaseValues,
  UpgradeInstallRequest,
} from '../../../src/lib/helm/helm-client.js'
import {HelmCli} from '../../../src/lib/helm/helm-cli.js'
import {ReleasePendingError, helmFailure} from '../../../src/lib/helm/helm-errors.js'
import {isPending} from '../../../src/lib/helm/release-state.js'
import {ExecaProcessRunner} from '../../../src/lib/process/runner.js'
import {helmBinary} from '../helm-binaries.js'
import {work} from './abortable-work.js'
import type {CallLog} from './call-log.js'
import type {NamespaceGuard} from './terminating-namespace.js'
import {key} from './release-key.js'

/** One stored revision of a release: what `helm history` lists plus the values it was given. */
export interface FakeRevision extends ReleaseRevision {
  config: Record<string, unknown>
  firstDeployed: Date
}

/** What a test can make `upgradeInstall` do once. */
export type UpgradeFailure = {kind: 'failed'; message?: string} | {kind: 'hang'}

/**
 * helm with release histories kept in memory: revisions, statuses (deployed, superseded, failed,
 * pending-*), the values each revision was given (`-f` files read at call time, then `--set-string`
 * and `--set`, as helm merges them). `helm template` runs the REAL helm 3 binary on the chart.
 */
export class FakeHelm implements HelmClient {
  readonly releases = new Map<string, FakeRevision[]>()
  /** Each upgradeInstall request, with the text of its values files as they were at call time. */
  readonly upgrades: {
    request: Omit<UpgradeInstallRequest, 'signal' | 'onLine'>
    valuesFileTexts: string[]
  }[] = []
  readonly rollbacks: {release: string; revision: number; namespace: string}[] = []
  readonly uninstalls: {release: string; namespace: string}[] = []
  readonly templates: ReleaseValues[] = []
  readonly sawAbort: string[] = []
  /** Consumed by the next upgradeInstall. */
  nextUpgrade: UpgradeFailure | undefined
  upgradeMs = 0
  /** How helm leaves a release whose upgrade was stopped: helm 3/4 mark it failed on SIGTERM, a SIGKILL leaves it pending. */
  interruptedUpgradeLeaves: 'failed' | 'pending' = 'failed'
  /** Refuses new content in a Terminating namespace (FakeCluster wires FakeClusterApi). */
  guard: NamespaceGuard | undefined
  private readonly realHelm = new HelmCli(new ExecaProcessRunner(), {binary: helmBinary('v3')})

  constructor(private readonly log: CallLog) {}

  async version(): Promise<HelmVersion> {
    this.log.record('helm.version')
    return {version: 'v3.17.2+gcc0bbbd', major: 3}
  }

  async upgradeInstall(request: UpgradeInstallRequest): Promise<{revision?: number}> {
    const {signal: _signal, onLine: _onLine, ...recorded} = request
    const valuesFileTexts = request.valuesFiles.map((file) => readFileSync(file, 'utf8'))
    this.upgrades.push({request: structuredClone(recorded), valuesFileTexts})
    this.log.record('helm.upgradeInstall', structuredClone(recorded))
    this.guard?.refuseHelmRelease(request.namespace, request.release, 'helm upgrade --install')
    const history = this.history_(request.release, request.namespace)
    const current = history.at(-1)
    if (current && isPending(current.status))
      throw new ReleasePendingError(request.release, request.namespace)
    const failure = this.nextUpgrade
    this.nextUpgrade = undefined
    const installing = !history.some(
      (revision) => revision.status === 'deployed' || revision.status === 'superseded',
    )
    const revision = this.push(request.release, request.namespace, {
      status: installing ? 'pending-install' : 'pending-upgrade',
      description: installing ? 'Initial install underway' : 'Preparing upgrade',
      config: valuesOf(valuesFileTexts, request),
      chart: chartRefOf(request.chart),
    })
    request.onLine?.(`Release "${request.release}" is being ${installing ? 'installed' : 'upgraded'}.`)
    try {
      if (failure?.kind === 'hang') await work(60 * 60 * 1000, request.signal, 'helm upgrade', this.sawAbort)
      else await work(this.upgradeMs, request.signal, 'helm upgrade', this.sawAbort)
    } catch (error) {
      if (this.interruptedUpgradeLeaves === 'failed') {
        revision.status = 'failed'
        revision.description = `${installing ? 'Install' : 'Upgrade'} "${request.release}" failed: context canceled`
      }
      throw error
    }
    if (failure?.kind === 'failed') {
      const message =
        failure.message ??
        'cannot patch "todo-frontend" with kind Deployment: Deployment.apps "todo-frontend" is invalid'
      revision.status = 'failed'
      revision.description = `${installing ? 'Install' : 'Upgrade'} "${request.release}" failed: ${message}`
      throw new DeployError(`helm upgrade --install failed: ${message}`, {
        where: `release ${request.release} in namespace ${request.namespace}`,
        fix: 'check the chart values; `helm template` shows what was sent',
      })
    }
    this.settle(history, revision, installing ? 'Install complete' : 'Upgrade complete')
    this.trim(history, request.historyMax)
    return {revision: revision.revision}
  }

  async status(release: string, namespace: string): Promise<ReleaseInfo | null> {
    this.log.record('helm.status', release, namespace)
    const history = this.releases.get(key(release, namespace)) ?? []
    const current = history.at(-1)
    if (!current) return null
    return {
      name: release,
      namespace,
      revision: current.revision,
      status: current.status,
      description: current.description,
      firstDeployed: history[0]?.firstDeployed,
      lastDeployed: current.updated,
      config: structuredClone(current.config),
      manifest: '',
    }
  }

  async history(release: string, namespace: string): Promise<ReleaseRevision[]> {
    this.log.record('helm.history', release, namespace)
    return (this.releases.get(key(release, namespace)) ?? []).map(
      ({revision, updated, status, chart, appVersion, description}) => ({
        revision,
        updated,
        status,
        chart,
        appVersion,
        description,
      }),
    )
  }

  async getValues(
    release: string,
    namespace: string,
    options: GetValuesOptions = {},
  ): Promise<Record<string, unknown>> {
    this.log.record('helm.getValues', release, namespace, options)
    const history = this.releases.get(key(release, namespace)) ?? []
    const found =
      options.revision === undefined ? history.at(-1) : history.find((r) => r.revision === options.revision)
    if (!found) throw new DeployError(`release ${release} has no revision ${options.revision ?? ''}`.trim())
    return structuredClone(found.config)
  }

  async rollback(
    release: string,
    revision: number,
    namespace: string,
    options: {signal?: AbortSignal} = {},
  ): Promise<void> {
    this.log.record('helm.rollback', release, revision, namespace)
    this.guard?.refuseHelmRelease(namespace, release, 'helm rollback')
    this.rollbacks.push({release, revision, namespace})
    await work(0, options.signal, 'helm rollback', this.sawAbort)
    const history = this.history_(release, namespace)
    const target = history.find((entry) => entry.revision === revision)
    if (!target) {
      // helm's own answer, mapped by the same code that maps the real one.
      throw helmFailure(
        {exitCode: 1, stdout: '', stderr: `Error: release has no ${revision} version\n`},
        {operation: 'helm rollback', kind: 'change', release, namespace, masked: []},
      )
    }
    const created = this.push(release, namespace, {
      status: 'pending-rollback',
      description: 'Rollback underway',
      config: structuredClone(target.config),
      chart: target.chart,
    })
    this.settle(history, created, `Rollback to ${revision}`)
  }

  async uninstall(
    release: string,
    namespace: string,
    options: {signal?: AbortSignal} = {},
  ): Promise<{existed: boolean}> {
    this.log.record('helm.uninstall', release, namespace)
    this.uninstalls.push({release, namespace})
    await work(0, options.signal, 'helm uninstall', this.sawAbort)
    return {existed: this.releases.delete(key(release, namespace))}
  }

  async template(values: ReleaseValues): Promise<string> {
    this.templates.push(structuredClone(values))
    this.log.record('helm.template', structuredClone(values))
    return this.realHelm.template(values)
  }

  async lint(chart: string, valuesFiles: string[]): Promise<LintResult> {
    this.log.record('helm.lint', chart, valuesFiles)
    return this.realHelm.lint(chart, valuesFiles)
  }

  /** Seeds a revision as a past run would have left it (e.g. `pending-upgrade` after a killed helm). */
  seed(
    release: string,
    namespace: string,
    status: ReleaseStatus,
    config: Record<string, unknown> = {},
  ): FakeRevision {
    const history = this.history_(release, namespace)
    if (status === 'deployed')
      for (const entry of history) if (entry.status === 'deployed') entry.status = 'superseded'
    return this.push(release, namespace, {status, description: `seeded ${status}`, config})
  }

  revisions(release: string, namespace: string): FakeRevision[] {
    return this.releases.get(key(release, namespace)) ?? []
  }

  private history_(release: string, namespace: string): FakeRevision[] {
    const id = key(release, namespace)
    let history = this.releases.get(id)
    if (!history) {
      history = []
      this.releases.set(id, history)
    }
    return history
  }

  private push(
    release: string,
    namespace: string,
    fields: Pick<FakeRevision, 'status' | 'description' | 'config'> & {chart?: string},
  ): FakeRevision {
    const history = this.history_(release, namespace)
    const revision: FakeRevision = {
      revision: (history.at(-1)?.revision ?? 0) + 1,
      updated: new Date(),
      firstDeployed: history[0]?.firstDeployed ?? new Date(),
      appVersion: '1.0.0',
      ...fields,
      chart: fields.chart ?? history.at(-1)?.chart ?? 'todo-chatbot-chart-1.0.0',
    }
    history.push(revision)
    return revision
  }

  /** The new revision becomes the deployed one; the one deployed before is superseded. */
  private settle(history: FakeRevision[], revision: FakeRevision, description: string): void {
    for (const entry of history)
      if (entry !== revision && entry.status === 'deployed') entry.status = 'superseded'
    revision.status = 'deployed'
    revision.description = description
  }

  private trim(history: FakeRevision[], historyMax: number): void {
    if (historyMax > 0 && history.length > historyMax) history.splice(0, history.length - historyMax)
  }
}

/** `<name>-<version>` of a chart folder, as `helm history` shows it; the project's chart when unreadable. */
function chartRefOf(chart: string): string | undefined {
  try {
    const meta = parseYaml(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')) as {
      name: string
      version: string
    }
    return `${meta.name}-${meta.version}`
  } catch {
    return undefined
  }
}

/**
 * The user-supplied values helm stores for a revision: `-f` files in order, then `--set`, then
 * `--set-string`, which wins over `--set` whatever the order on the command line.
 */
function valuesOf(valuesFileTexts: string[], request: ReleaseValues): Record<string, unknown> {
  let merged: Record<string, unknown> = {}
  for (const text of valuesFileTexts)
    merged = mergeValues(merged, (parseYaml(text) ?? {}) as Record<string, unknown>)
  for (const flag of request.set ?? []) {
    for (const pair of flag.split(/(?<!\\),/)) {
      const at = pair.indexOf('=')
      setDotted(merged, pair.slice(0, at), typedSetValue(pair.slice(at + 1).replace(/\\(.)/g, '$1')))
    }
  }
  for (const [dotted, value] of Object.entries(request.setString)) setDotted(merged, dotted, value)
  return merged
}

/** How `--set` types a value: true/false, null, integers without a leading zero; anything else a string. No `{a,b}` lists. */
function typedSetValue(text: string): unknown {
  if (/^true$/i.test(text)) return true
  if (/^false$/i.test(text)) return false
  if (/^null$/i.test(text)) return null
  if (text === '0' || /^[-+]?[1-9]\d*$/.test(text)) {
    const number = Number(text)
    if (Number.isSafeInteger(number)) return number
  }
  return text
}

function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {...base}
  for (const [name, value] of Object.entries(over)) {
    const current = result[name]
    result[name] =
      isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : structuredClone(value)
  }
  return result
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function setDotted(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.')
  let level = target
  for (const name of keys.slice(0, -1)) {
    const next = level[name]
    if (!isPlainObject(next)) level[name] = {}
    level = level[name] as Record<string, unknown>
  }
  level[keys.at(-1) ?? dotted] = value
}
