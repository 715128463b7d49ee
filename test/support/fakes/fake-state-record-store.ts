import {
  HISTORY_LIMIT,
  type LifecycleRecord,
  type StateRecordStore,
} from '../../../src/lib/kube/state-record.js'
import {key} from './release-key.js'
import type {NamespaceGuard} from './terminating-namespace.js'

/** The state ConfigMap, kept as the JSON text the real store writes. */
export class FakeStateRecordStore implements StateRecordStore {
  readonly texts = new Map<string, string>()
  writes = 0
  /** Refuses new content in a Terminating namespace (FakeCluster wires FakeClusterApi). */
  guard: NamespaceGuard | undefined

  async read(namespace: string, release: string): Promise<LifecycleRecord | null> {
    const text = this.texts.get(key(release, namespace))
    return text === undefined ? null : (JSON.parse(text) as LifecycleRecord)
  }

  async write(namespace: string, release: string, record: LifecycleRecord): Promise<void> {
    this.writes++
    if (!this.texts.has(key(release, namespace)))
      this.guard?.refuseNewContent(namespace, {resource: 'configmaps', name: `todo-deploy-state-${release}`})
    this.texts.set(
      key(release, namespace),
      JSON.stringify({
        operation: record.operation,
        history: record.history.slice(0, HISTORY_LIMIT),
        ...(record.live === undefined ? {} : {live: record.live}),
      }),
    )
  }

  async delete(namespace: string, release: string): Promise<{deleted: boolean}> {
    return {deleted: this.texts.delete(key(release, namespace))}
  }
}
