import {DeployError} from '../errors.js'
import {ReleasePendingError} from '../helm/helm-errors.js'
import type {Connection} from './ports.js'

export interface FailedFirstInstall {
  release: string
  namespace: string
  /** The Secret the CLI applied: it stays, as does the namespace (helm never owned either). */
  secretName: string
  signal?: AbortSignal
}

/**
 * A first install that failed has no working revision to go back to: left in place, the next `up`
 * would "upgrade" a release that never ran. The plan decides to uninstall it, as `helm --atomic` does,
 * and this runs once the diagnosis has been taken. Returns the line that tells the user what happened.
 */
export async function uninstallFailedFirstInstall(
  connection: Pick<Connection, 'helm'>,
  request: FailedFirstInstall,
): Promise<string> {
  const {release, namespace} = request
  try {
    await connection.helm.uninstall(release, namespace, {signal: request.signal})
  } catch (error) {
    if (request.signal?.aborted) throw error
    const reason = error instanceof Error ? error.message : String(error)
    return `the first install failed and removing it failed too (${reason}): run \`todo-deploy down\`, then \`todo-deploy up\``
  }
  return `the first install failed, so release ${release} was uninstalled (nothing half-installed is left; namespace ${namespace} and Secret ${request.secretName} stay): the next \`todo-deploy up\` installs afresh`
}

/**
 * A deploy error gains the line saying what became of the release: `settle` runs the plan's failure
 * decision and returns that line. Interruptions, a lost cluster and a release held by another operation
 * are passed on untouched.
 */
export async function withFailureSettled(
  error: unknown,
  signal: AbortSignal | undefined,
  settle: () => Promise<string | undefined>,
): Promise<unknown> {
  if (!(error instanceof DeployError) || error instanceof ReleasePendingError || signal?.aborted) return error
  const line = await settle()
  if (line) error.details.push(line)
  return error
}
