import {z} from 'zod'

import {DeployError} from '../errors.js'
import {PARSE_ONCE} from '../parse-once.js'
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE, RELEASE_LABEL} from './kube-client.js'
import type {KubeConnection} from './kube-connection.js'
import {isApiStatus, nullIfNotFound} from './kube-errors.js'

export type OperationResult = 'running' | 'succeeded' | 'failed' | 'interrupted'
export type PhaseState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted'

export interface PhaseRecord {
  /** Lifecycle phase name, e.g. Building, Loading, Deploying, Starting (docs/lifecycle.md). */
  phase: string
  state: PhaseState
  startedAt: string
  endedAt?: string
  durationMs?: number
  skipReason?: string
  /** A short human line written by the lifecycle (never a secret value). */
  detail?: string
}

export interface OperationRecord {
  id: string
  /** e.g. `up`, `rollback`, `down`. */
  command: string
  startedAt: string
  endedAt?: string
  result: OperationResult
  interruptedPhase?: string
  phases: PhaseRecord[]
  /** Content tags per component, e.g. {frontend: 'c0ffee12'}. */
  tags?: Record<string, string>
  /** Helm revision the operation produced. */
  revision?: number
  url?: string
  /** The lifecycle state the operation left the deployment in (Healthy, Failed, ...; docs/lifecycle.md). */
  state?: string
}

export type OperationSummary = Pick<
  OperationRecord,
  'id' | 'command' | 'startedAt' | 'endedAt' | 'result' | 'interruptedPhase' | 'revision'
>

/**
 * A service whose pods run files `dev` synced, ahead of their image: `status` shows it (`live: 3 files
 * synced since todo-frontend:c-1f3e…`) while the service still runs `image`. Paths are not kept: a
 * count is all `status` shows, and the record stays small.
 */
export interface LiveSyncRecord {
  /** The image reference the synced files are ahead of. */
  image: string
  /** Files written or deleted since that image, each counted once. */
  files: number
  /** The last sync (ISO time). */
  at: string
}

/** What `status` reads from any machine: the current (or last) operation and a short history. */
export interface LifecycleRecord {
  operation: OperationRecord
  /** Most recent first; at most HISTORY_LIMIT entries. */
  history: OperationSummary[]
  /** `dev` live sync, per service (by service name). */
  live?: Record<string, LiveSyncRecord>
}

export const HISTORY_LIMIT = 10
const RECORD_KEY = 'record.json'

const resultSchema = z.enum(['running', 'succeeded', 'failed', 'interrupted'])
const phaseSchema = z.object({
  phase: z.string(),
  state: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'interrupted']),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  durationMs: z.number().optional(),
  skipReason: z.string().optional(),
  detail: z.string().optional(),
})
const operationSchema = z.object({
  id: z.string(),
  command: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  result: resultSchema,
  interruptedPhase: z.string().optional(),
  phases: z.array(phaseSchema),
  tags: z.record(z.string(), z.string()).optional(),
  revision: z.number().optional(),
  url: z.string().optional(),
  state: z.string().optional(),
})
const summarySchema = operationSchema.pick({
  id: true,
  command: true,
  startedAt: true,
  endedAt: true,
  result: true,
  interruptedPhase: true,
  revision: true,
})
const recordSchema: z.ZodType<LifecycleRecord> = z.object({
  operation: operationSchema,
  history: z.array(summarySchema),
  live: z.record(z.string(), z.object({image: z.string(), files: z.number(), at: z.string()})).optional(),
})

export function stateRecordName(release: string): string {
  return `todo-deploy-state-${release}`
}

export function summariseOperation({
  id,
  command,
  startedAt,
  endedAt,
  result,
  interruptedPhase,
  revision,
}: OperationRecord): OperationSummary {
  return {id, command, startedAt, endedAt, result, interruptedPhase, revision}
}

export interface StateRecordStore {
  /** Null when no operation has been recorded for this release in this namespace. */
  read(namespace: string, release: string): Promise<LifecycleRecord | null>
  /** Creates or replaces the record; history is cut to the HISTORY_LIMIT most recent. */
  write(namespace: string, release: string, record: LifecycleRecord): Promise<void>
  delete(namespace: string, release: string): Promise<{deleted: boolean}>
}

/** The record lives in a ConfigMap next to the release, so `status` works from any machine. */
export class ConfigMapStateRecordStore implements StateRecordStore {
  constructor(private readonly kube: KubeConnection) {}

  async read(namespace: string, release: string): Promise<LifecycleRecord | null> {
    const name = stateRecordName(release)
    const configMap = await this.kube.call({verb: 'get', resource: 'configmaps', name, namespace}, () =>
      nullIfNotFound(this.kube.core.readNamespacedConfigMap({name, namespace})),
    )
    const text = configMap?.data?.[RECORD_KEY]
    if (configMap === null || text === undefined) return null
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    const result = recordSchema.safeParse(parsed, PARSE_ONCE)
    if (!result.success) {
      throw new DeployError(`the lifecycle record of release ${release} is unreadable`, {
        where: `configmap/${name} key ${RECORD_KEY} in namespace ${namespace}`,
        details: parsed === undefined ? ['it is not valid JSON'] : [z.prettifyError(result.error)],
        fix: `delete it (\`kubectl -n ${namespace} delete configmap ${name}\`); the next todo-deploy up writes a fresh one`,
      })
    }
    return result.data
  }

  async write(namespace: string, release: string, record: LifecycleRecord): Promise<void> {
    const name = stateRecordName(release)
    const bounded: LifecycleRecord = {
      operation: record.operation,
      history: record.history.slice(0, HISTORY_LIMIT),
      ...(record.live === undefined ? {} : {live: record.live}),
    }
    const metadata = {
      name,
      namespace,
      labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [RELEASE_LABEL]: release},
    }
    const data = {[RECORD_KEY]: JSON.stringify(bounded)}
    await this.kube.call({verb: 'update', resource: 'configmaps', name, namespace}, async () => {
      // The release lock serialises writers, so the last write wins; a create race just becomes a replace.
      try {
        await this.kube.core.replaceNamespacedConfigMap({name, namespace, body: {metadata, data}})
      } catch (error) {
        if (!isApiStatus(error, 404)) throw error
        await this.kube.core.createNamespacedConfigMap({namespace, body: {metadata, data}})
      }
    })
  }

  async delete(namespace: string, release: string): Promise<{deleted: boolean}> {
    const name = stateRecordName(release)
    const result = await this.kube.call({verb: 'delete', resource: 'configmaps', name, namespace}, () =>
      nullIfNotFound(this.kube.core.deleteNamespacedConfigMap({name, namespace})),
    )
    return {deleted: result !== null}
  }
}
