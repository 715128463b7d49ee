import {DeployError} from '../errors.js'
import {ReleasePendingError} from '../helm/helm-errors.js'
import type {Connection} from './ports.js'

export interface FailedFirstInstall {
  release: string
  namespace: string
  /** The Secret the CLI applied: it stays, as does the namespace (helm never owned either). */
  secretName: string
  /** false with `--no-rollback`: the failed release stays for inspection. */
  rollbackOnFailure: boolean
  signal?: AbortSignal
}

/**
 * A first install that failed has no working revision to go back to: left in place, the next `up`
 * would "upgrade" a release that never ran. With rollback on it is uninstalled, as `helm --atomic`
 * does, once the diagnosis has been taken. Returns the line that tells the user what happened.
 */
export async function settleFailedFirstInstall(
  connection: Pick<Connection, 'helm'>,
  request: FailedFirstInstall,
): Promise<string> {
  const {release, namespace} = request
  if (!request.rollbackOnFailure) {
    return `--no-rollback: the failed first install of release ${release} stays for inspection; \`todo-deploy status\` shows it, \`todo-deploy up\` installs again once the cause is fixed, \`todo-deploy down\` removes it`
  }
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
 * The same for a first install that Helm itself refused (a taken nodePort, an invalid object): the
 * error gains the line saying what became of the release. Interruptions, a lost cluster and a release
 * held by another operation are passed on untouched.
 */
export async function failFirstInstall(
  error: unknown,
  connection: Pick<Connection, 'helm'>,
  request: FailedFirstInstall,
): Promise<unknown> {
  if (!(error instanceof DeployError) || error instanceof ReleasePendingError || request.signal?.aborted)
    return error
  error.details.push(await settleFailedFirstInstall(connection, request))
  return error
}
