import {
  BadInputError,
  DeployError,
  InterruptedError,
  PrerequisiteError,
  type ErrorDetails,
  type TodoDeployError,
} from '../errors.js'
import type {RunResult} from '../process/runner.js'

/**
 * Another helm operation holds the release, or an interrupted one left it pending-* (helm #7476,
 * #8987): helm refuses every upgrade until it is rolled back or uninstalled.
 */
export class ReleasePendingError extends DeployError {
  constructor(
    readonly release: string,
    readonly namespace: string,
    options: ErrorDetails = {},
  ) {
    super(
      `release "${release}" is locked: another helm operation (install/upgrade/rollback) is in progress`,
      {
        where: `release ${release} in namespace ${namespace}`,
        fix:
          'wait for the other operation to finish; if none is running (an earlier run was interrupted), ' +
          'run `todo-deploy up --force`: it unlocks the release (rolls back to the last deployed revision, ' +
          'or removes a first install that never finished) and deploys again',
        ...options,
      },
    )
    this.name = 'ReleasePendingError'
  }
}

/** The texts helm 3 and 4 print (see test/fixtures/helm); helm 4 lower-cases "kubernetes". */
const PENDING = /another operation \(install\/upgrade\/rollback\) is in progress/
const NO_SUCH_REVISION = /release has no (\d+) version/
export const RELEASE_NOT_FOUND = /release: not found/
const UNREACHABLE =
  /kubernetes cluster unreachable|connection refused|could not get server version|no such host|i\/o timeout/i
/** Exit codes of a helm stopped by a signal: SIGINT (or a cancelled run), SIGKILL, SIGTERM. */
const INTERRUPTED_EXIT_CODES = new Set([130, 137, 143])

export interface HelmFailureContext {
  /** The subcommand as the user would name it, e.g. `helm upgrade --install` (never with values). */
  operation: string
  release?: string
  namespace?: string
  kubeContext?: string
  /** `change`: alters the release (an interrupted one may leave it pending); `read`: reads it; `render`: no cluster. */
  kind: 'change' | 'read' | 'render'
  signal?: AbortSignal
  /** Values that must not appear in the error (secret-looking `--set-string` values). */
  masked: readonly string[]
}

/** Turns a failed helm run into the error the user reads: what, where, what to do. */
export function helmFailure(result: RunResult, context: HelmFailureContext): TodoDeployError {
  const message = mask(helmMessage(result), context.masked)
  const where = context.release
    ? `release ${context.release} in namespace ${context.namespace ?? 'default'}`
    : undefined
  const details = message.includes('\n') ? message.split('\n').slice(1) : []
  const headline = message.split('\n')[0] ?? ''

  if (context.signal?.aborted || INTERRUPTED_EXIT_CODES.has(result.exitCode)) {
    return new InterruptedError(`\`${context.operation}\` was interrupted`, {
      where,
      fix:
        context.kind === 'change'
          ? 'the release may be left pending: run `todo-deploy status`, and `todo-deploy up --force` to recover it'
          : undefined,
    })
  }
  if (PENDING.test(message) && context.release) {
    return new ReleasePendingError(context.release, context.namespace ?? 'default', {details: [headline]})
  }
  const noRevision = NO_SUCH_REVISION.exec(message)
  if (noRevision) {
    return new BadInputError(`release "${context.release ?? ''}" has no revision ${noRevision[1]}`, {
      where,
      fix: 'pick a revision that `todo-deploy status` lists (or run `helm history` on the release)',
    })
  }
  if (UNREACHABLE.test(message)) {
    const contextName = context.kubeContext
      ? `kube context "${context.kubeContext}"`
      : 'the current kube context'
    return new PrerequisiteError(`helm cannot reach the cluster of ${contextName}`, {
      where: contextName,
      fix: 'start the cluster (`minikube start`) or choose a reachable one with --context; check `kubectl --context <name> get nodes`',
      details: [headline],
    })
  }
  if (RELEASE_NOT_FOUND.test(message) && context.release) {
    return new BadInputError(
      `release "${context.release}" does not exist in namespace ${context.namespace ?? 'default'}`,
      {
        where,
        fix: 'deploy it first with `todo-deploy up`, or pass the right --release / --namespace',
      },
    )
  }
  const failure = `\`${context.operation}\` failed: ${headline || `exit code ${result.exitCode}`}`
  switch (context.kind) {
    case 'change':
      return new DeployError(failure, {
        where,
        fix: 'run `todo-deploy status` to see the release and its pods',
        details,
      })
    case 'read':
      return new PrerequisiteError(failure, {
        where,
        fix: `check that your kube context may read helm releases (Secrets) in namespace ${context.namespace ?? 'default'}`,
        details,
      })
    case 'render':
      return new BadInputError(failure, {
        where: 'the chart and its values files',
        fix: 'fix the template or value helm names above',
        details,
      })
  }
}

/** helm's own error text: its `Error: ` lines (else the whole stderr), without the prefix. */
export function helmMessage(result: RunResult): string {
  const stderr = result.stderr.trim()
  const errorLines = stderr
    .split('\n')
    .filter((line) => line.startsWith('Error: '))
    .map((line) => line.slice('Error: '.length).trim())
  if (errorLines.length > 0) return errorLines.join('\n')
  return stderr || result.stdout.trim()
}

export function mask(text: string, masked: readonly string[]): string {
  let result = text
  for (const value of masked) if (value.length > 0) result = result.split(value).join('***')
  return result
}
