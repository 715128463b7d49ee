import {
  BadInputError,
  DeployError,
  InterruptedError,
  PrerequisiteError,
  type ErrorDetails,
  type TodoDeployError,
} from '../errors.js'
import {NamespaceTerminatingError, terminatingNamespaceInText} from '../kube/namespace-termination.js'
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
  const terminating = terminatingNamespaceInText(message)
  if (terminating !== undefined) {
    return new NamespaceTerminatingError(terminating, {
      refused: `\`${context.operation}\` was refused`,
      details: [headline],
    })
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
    return missingRelease(context.release, context.namespace ?? 'default')
  }
  const reason = helmReason(message)
  const failure = `\`${context.operation}\` failed: ${reason.summary || `exit code ${result.exitCode}`}`
  const details = reason.details
  switch (context.kind) {
    case 'change':
      return new DeployError(failure, {
        where,
        fix: fixForReason(reason.causes) ?? 'run `todo-deploy status` to see the release and its pods',
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

/** helm's `release: not found`: the release, or the revision asked for, is not stored. */
export function missingRelease(release: string, namespace: string): BadInputError {
  return new BadInputError(`release "${release}" does not exist in namespace ${namespace}`, {
    where: `release ${release} in namespace ${namespace}`,
    fix: 'deploy it first with `todo-deploy up`, or pass the right --release / --namespace',
  })
}

/**
 * helm's own error text without the `Error: ` prefix: the `Error:` line and the lines after it (a
 * multi-error answer lists its causes there as tab-indented `* ...` lines), else the whole stderr.
 */
export function helmMessage(result: RunResult): string {
  const stderr = result.stderr.trim()
  const lines = stderr.split('\n')
  const first = lines.findIndex((line) => line.startsWith('Error: '))
  if (first >= 0) {
    return lines
      .slice(first)
      .map((line) => (line.startsWith('Error: ') ? line.slice('Error: '.length) : line).trim())
      .filter((line) => line !== '')
      .join('\n')
  }
  return stderr || result.stdout.trim()
}

export interface HelmReason {
  /** One line: the operation's failure and, when there is a single cause, that cause. */
  summary: string
  /** The causes helm listed (`* ...` lines), or the headline's own cause. */
  causes: string[]
  /** Lines shown under the message: the causes when there are several. */
  details: string[]
}

/** Splits helm's `N error(s) occurred:` form into its causes, so the message never stops at that line. */
export function helmReason(message: string): HelmReason {
  const [headline = '', ...rest] = message.split('\n')
  const listed = rest.filter((line) => line.startsWith('* ')).map((line) => line.slice(2).trim())
  const other = rest.filter((line) => !line.startsWith('* '))
  if (listed.length === 1 && ERRORS_OCCURRED.test(headline)) {
    const cause = listed[0] ?? ''
    return {summary: `${headline.replace(ERRORS_OCCURRED, '')}${cause}`, causes: [cause], details: other}
  }
  if (listed.length > 0) return {summary: headline, causes: listed, details: rest}
  return {summary: headline, causes: [headline], details: rest}
}

const ERRORS_OCCURRED = /\d+ errors? occurred:\s*$/
const NODE_PORT_TAKEN =
  /Service "([^"]+)" is invalid: spec\.ports\[\d+\]\.nodePort: Invalid value: (\d+): provided port is already allocated/
const OWNED_ELSEWHERE =
  /(\w+) "([^"]+)" in namespace "([^"]+)" exists and cannot be imported into the current release/
const QUOTA = /exceeded quota/
const WEBHOOK = /admission webhook "([^"]+)" denied the request/
const DEADLINE = /context deadline exceeded|timed out waiting/
const INVALID = /is invalid:/

/** The fix for the first cause helm gave that todo-deploy knows; undefined for the rest. */
export function fixForReason(causes: readonly string[]): string | undefined {
  for (const cause of causes) {
    const port = NODE_PORT_TAKEN.exec(cause)
    if (port) {
      return (
        `nodePort ${port[2]} of Service ${port[1]} is held by another Service (\`kubectl get svc -A | grep ${port[2]}\` shows which): ` +
        "in todo-deploy.yaml set that service's `service.nodePort: null` (e.g. `services.frontend.service.nodePort: null`) for an automatic port, or another free port in 30000-32767"
      )
    }
    const owned = OWNED_ELSEWHERE.exec(cause)
    if (owned) {
      return `${owned[1]} ${owned[2]} in namespace ${owned[3]} belongs to something else: delete it (\`kubectl -n ${owned[3]} delete ${owned[1]?.toLowerCase()} ${owned[2]}\`) or deploy to another namespace (\`namespace:\` in todo-deploy.yaml)`
    }
    if (QUOTA.test(cause)) {
      return "the namespace's ResourceQuota refuses the pods: lower resources.requests/limits in the chart values, or raise the quota (`kubectl describe quota`)"
    }
    const webhook = WEBHOOK.exec(cause)
    if (webhook) {
      return `the cluster's admission webhook ${webhook[1]} refused an object: change what it names above, or ask who runs the cluster`
    }
    if (DEADLINE.test(cause)) {
      return 'helm gave up waiting for the cluster: check that it answers (`kubectl get nodes`), then run `todo-deploy status` and `todo-deploy up` again'
    }
    if (INVALID.test(cause)) {
      return 'Kubernetes refused an object the chart rendered: fix the value it names above (`todo-deploy up --dry-run` prints the rendered manifests)'
    }
  }
  return undefined
}

export function mask(text: string, masked: readonly string[]): string {
  let result = text
  for (const value of masked) if (value.length > 0) result = result.split(value).join('***')
  return result
}
