import {PrerequisiteError, TodoDeployError, isTodoDeployError} from '../errors.js'
import {installHint, type ProcessRunner, type RunResult} from '../process/runner.js'
import type {
  GetValuesOptions,
  HelmClient,
  HelmVersion,
  LintResult,
  ReleaseInfo,
  ReleaseRevision,
  ReleaseValues,
  UpgradeInstallRequest,
} from './helm-client.js'
import {RELEASE_NOT_FOUND, helmFailure, helmMessage, mask, type HelmFailureContext} from './helm-errors.js'
import type {HelmVersionCache} from './helm-version-cache.js'
import {
  parseHelmVersion,
  parseHistory,
  parseLintOutput,
  parseStatus,
  parseUpgradeRevision,
  parseValues,
} from './helm-output.js'

export interface HelmTimeouts {
  /** Reads and renders: version, status, history, get values, template, lint. */
  queryMs: number
  /** upgrade, rollback, uninstall. */
  changeMs: number
}

export const DEFAULT_HELM_TIMEOUTS: HelmTimeouts = {queryMs: 60_000, changeMs: 300_000}

/**
 * A changing command gets helm's own `--timeout` plus this margin before the runner kills it: helm then
 * gives up by itself and records the revision as failed, where a kill would leave it pending-* (locked).
 */
const KILL_MARGIN_MS = 30_000

export interface HelmCliOptions {
  /** The helm executable: `helm` on PATH, or a path. */
  binary?: string
  /** Passed as `--kube-context` to every command that talks to a cluster; the current context when unset. */
  kubeContext?: string
  timeouts?: Partial<HelmTimeouts>
  /** Debug log: each command line, with values of secret-looking keys masked. */
  log?: (line: string) => void
  /** Remembers the version per helm binary, so `version()` starts no process while helm is unchanged. */
  versionCache?: HelmVersionCache
}

interface Call extends Omit<HelmFailureContext, 'masked'> {
  timeoutMs: number
  onLine?: (line: string) => void
}

/** helm 3.8+ / 4.x through its CLI, using only flags both majors accept (no --atomic, no --wait). */
export class HelmCli implements HelmClient {
  private readonly binary: string
  private readonly kubeContext?: string
  private readonly timeouts: HelmTimeouts
  private readonly log?: (line: string) => void
  private readonly versionCache?: HelmVersionCache

  constructor(
    private readonly runner: ProcessRunner,
    options: HelmCliOptions = {},
  ) {
    this.binary = options.binary ?? 'helm'
    this.kubeContext = options.kubeContext
    this.timeouts = {...DEFAULT_HELM_TIMEOUTS, ...options.timeouts}
    this.log = options.log
    this.versionCache = options.versionCache
  }

  async version(): Promise<HelmVersion> {
    return this.versionCache
      ? this.versionCache.remembered(this.binary, () => this.askVersion())
      : this.askVersion()
  }

  private async askVersion(): Promise<HelmVersion> {
    const result = await this.exec(['version', '--short'], {
      operation: 'helm version',
      kind: 'render',
      timeoutMs: this.timeouts.queryMs,
    })
    if (result.exitCode !== 0) {
      throw new PrerequisiteError(`\`helm version\` failed: ${helmMessage(result)}`, {
        where: this.binary,
        fix: installHint('helm'),
      })
    }
    return parseHelmVersion(result.stdout)
  }

  async upgradeInstall(request: UpgradeInstallRequest): Promise<{revision?: number}> {
    const args = [
      'upgrade',
      '--install',
      request.release,
      request.chart,
      ...this.scope(request.namespace),
      ...valuesArgs(request),
      '--history-max',
      String(request.historyMax),
      ...this.helmTimeout(),
    ]
    const call: Call = {
      ...this.changeCall('helm upgrade --install', request.release, request.namespace, request.signal),
      onLine: request.onLine,
    }
    const result = await this.exec(args, call)
    if (result.exitCode !== 0) throw this.failure(result, call, args)
    return {revision: parseUpgradeRevision(result.stdout)}
  }

  async status(release: string, namespace: string): Promise<ReleaseInfo | null> {
    const args = ['status', release, ...this.scope(namespace), '-o', 'json']
    const call = this.readCall('helm status', release, namespace)
    const result = await this.exec(args, call)
    if (result.exitCode === 0) return parseStatus(result.stdout)
    if (isReleaseNotFound(result)) return null
    throw this.failure(result, call, args)
  }

  async history(release: string, namespace: string): Promise<ReleaseRevision[]> {
    const args = ['history', release, ...this.scope(namespace), '-o', 'json']
    const call = this.readCall('helm history', release, namespace)
    const result = await this.exec(args, call)
    if (result.exitCode === 0) return parseHistory(result.stdout)
    if (isReleaseNotFound(result)) return []
    throw this.failure(result, call, args)
  }

  async getValues(
    release: string,
    namespace: string,
    options: GetValuesOptions = {},
  ): Promise<Record<string, unknown>> {
    const args = [
      'get',
      'values',
      release,
      ...this.scope(namespace),
      '-o',
      'json',
      ...(options.all ? ['--all'] : []),
      ...(options.revision === undefined ? [] : ['--revision', String(options.revision)]),
    ]
    const call = this.readCall('helm get values', release, namespace)
    const result = await this.exec(args, call)
    if (result.exitCode !== 0) throw this.failure(result, call, args)
    return parseValues(result.stdout)
  }

  async rollback(
    release: string,
    revision: number,
    namespace: string,
    options: {signal?: AbortSignal} = {},
  ): Promise<void> {
    const args = ['rollback', release, String(revision), ...this.scope(namespace), ...this.helmTimeout()]
    const call = this.changeCall('helm rollback', release, namespace, options.signal)
    const result = await this.exec(args, call)
    if (result.exitCode !== 0) throw this.failure(result, call, args)
  }

  async uninstall(
    release: string,
    namespace: string,
    options: {signal?: AbortSignal} = {},
  ): Promise<{existed: boolean}> {
    const args = ['uninstall', release, ...this.scope(namespace), ...this.helmTimeout()]
    const call = this.changeCall('helm uninstall', release, namespace, options.signal)
    const result = await this.exec(args, call)
    if (result.exitCode === 0) return {existed: true}
    if (isReleaseNotFound(result)) return {existed: false}
    throw this.failure(result, call, args)
  }

  async template(values: ReleaseValues): Promise<string> {
    const args = [
      'template',
      values.release,
      values.chart,
      ...this.scope(values.namespace),
      ...valuesArgs(values),
    ]
    const call: Call = {operation: 'helm template', kind: 'render', timeoutMs: this.timeouts.queryMs}
    const result = await this.exec(args, call)
    if (result.exitCode !== 0) throw this.failure(result, call, args)
    return result.stdout
  }

  async lint(chart: string, valuesFiles: string[]): Promise<LintResult> {
    const args = ['lint', chart, ...valuesFiles.flatMap((file) => ['-f', file])]
    const result = await this.exec(args, {
      operation: 'helm lint',
      kind: 'render',
      timeoutMs: this.timeouts.queryMs,
    })
    const messages = parseLintOutput(`${result.stdout}\n${result.stderr}`)
    const ok = result.exitCode === 0
    if (!ok && !messages.some((message) => message.severity === 'error')) {
      messages.push({severity: 'error', text: helmMessage(result)})
    }
    return {ok, messages}
  }

  /** A query: bounded by the query timeout. */
  private readCall(operation: string, release: string, namespace: string): Call {
    return {operation, kind: 'read', release, namespace, timeoutMs: this.timeouts.queryMs}
  }

  /** A change: helm's own --timeout runs out first, so helm marks the revision failed instead of leaving it pending. */
  private changeCall(operation: string, release: string, namespace: string, signal?: AbortSignal): Call {
    return {
      operation,
      kind: 'change',
      release,
      namespace,
      signal,
      timeoutMs: this.timeouts.changeMs + KILL_MARGIN_MS,
    }
  }

  private scope(namespace: string): string[] {
    return ['--namespace', namespace, ...(this.kubeContext ? ['--kube-context', this.kubeContext] : [])]
  }

  private helmTimeout(): string[] {
    return ['--timeout', `${Math.ceil(this.timeouts.changeMs / 1000)}s`]
  }

  private async exec(args: string[], call: Call): Promise<RunResult> {
    const masked = maskedValues(args)
    this.log?.(mask([this.binary, ...args].join(' '), masked))
    const onLine = call.onLine
    try {
      return await this.runner.run(this.binary, args, {
        timeoutMs: call.timeoutMs,
        signal: call.signal,
        onLine: onLine && ((line) => onLine(mask(line, masked))),
      })
    } catch (error) {
      throw this.runFailure(error, call)
    }
  }

  private failure(result: RunResult, call: Call, args: string[]): TodoDeployError {
    return helmFailure(result, {...call, kubeContext: this.kubeContext, masked: maskedValues(args)})
  }

  /** The runner rejects when helm cannot start or hangs; its messages would quote the whole command line. */
  private runFailure(error: unknown, call: Call): unknown {
    if (!isTodoDeployError(error)) return error
    if (/was not found on PATH/.test(error.message)) {
      return new PrerequisiteError(`helm was not found (looked for \`${this.binary}\`)`, {
        fix: installHint('helm'),
        cause: error,
      })
    }
    return new TodoDeployError(
      error.exitCode,
      `\`${call.operation}\` did not finish within ${Math.round(call.timeoutMs / 1000)}s`,
      {
        where: call.release
          ? `release ${call.release} in namespace ${call.namespace ?? 'default'}`
          : undefined,
        fix: 'check that the cluster answers (`kubectl get nodes`) and that `helm version` works, then run again',
        cause: error,
      },
    )
  }
}

function isReleaseNotFound(result: RunResult): boolean {
  return RELEASE_NOT_FOUND.test(result.stderr)
}

/** `-f` files, then `--set-string` (helm gives it precedence over `--set` whatever the order), then `--set`. */
function valuesArgs(values: ReleaseValues): string[] {
  return [
    ...values.valuesFiles.flatMap((file) => ['-f', file]),
    ...Object.entries(values.setString).flatMap(([key, value]) => [
      '--set-string',
      `${key}=${escapeSetValue(value)}`,
    ]),
    ...(values.set ?? []).flatMap((assignment) => ['--set', assignment]),
  ]
}

/** helm splits `--set*` values on commas; a backslash makes the next character literal. */
function escapeSetValue(value: string): string {
  return value.replace(/[\\,]/g, (character) => `\\${character}`)
}

/** Keys under `secrets.`, or whose last segment names a credential. */
const SECRET_KEY = /(^|\.)secrets\.|(password|passwd|token|api[-_]?key|secret)$/i

/** The values of secret-looking keys in `--set` / `--set-string` arguments, to mask in logs and errors. */
export function maskedValues(args: readonly string[]): string[] {
  const values: string[] = []
  args.forEach((arg, index) => {
    const flag = args[index - 1]
    if (flag !== '--set' && flag !== '--set-string') return
    for (const assignment of arg.split(/(?<!\\),/)) {
      const equals = assignment.indexOf('=')
      if (equals <= 0 || !SECRET_KEY.test(assignment.slice(0, equals))) continue
      const escaped = assignment.slice(equals + 1)
      // helm echoes the unescaped form; the logged command line shows the escaped one.
      const plain = escaped.replace(/\\(.)/g, '$1')
      values.push(...(plain === escaped ? [escaped] : [escaped, plain]))
    }
  })
  return values
}
