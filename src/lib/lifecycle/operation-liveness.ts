import {isLockLive, type LockState} from '../kube/release-lock.js'
import type {OperationRecord, OperationResult} from '../kube/state-record.js'
import type {Connection} from './ports.js'

/**
 * The last operation as `status` reports it. A record still marked `running` is only believed while its
 * release lock is held and renewed; once the lock has expired or is gone, the process that wrote it died
 * (a lost API server, a killed terminal) and the operation is `abandoned`.
 */
export interface ReportedOperation extends Omit<OperationRecord, 'result'> {
  result: OperationResult | 'abandoned'
  /** For `abandoned`: when its lock lapsed (ISO), or null when the lock is gone altogether. */
  lockExpiredAt?: string | null
}

/** Reads the lock only for a record that claims to be running: every other record speaks for itself. */
export async function reportOperation(
  connection: Pick<Connection, 'lock'>,
  namespace: string,
  release: string,
  operation: OperationRecord | null,
  now: Date,
): Promise<ReportedOperation | null> {
  if (operation?.result !== 'running') return operation
  return judgeOperation(operation, await connection.lock.inspect(namespace, release), now)
}

export function judgeOperation(
  operation: OperationRecord,
  lock: LockState | null,
  now: Date,
): ReportedOperation {
  if (isLockLive(lock, now)) return operation
  return {...operation, result: 'abandoned', lockExpiredAt: lock?.expiresAt?.toISOString() ?? null}
}

/** "the last `up` did not finish (started ..., its lock expired ...); run `todo-deploy up`". */
export function describeAbandoned(operation: ReportedOperation): string {
  const lock =
    operation.lockExpiredAt === null || operation.lockExpiredAt === undefined
      ? 'its lock is gone'
      : `its lock expired ${operation.lockExpiredAt}`
  return `the last \`${operation.command}\` did not finish (started ${operation.startedAt}, ${lock}); run \`todo-deploy ${operation.command}\``
}
