import {InterruptedError} from '../../../src/lib/errors.js'
import type {WorkloadSnapshot, WorkloadSource} from '../../../src/lib/kube/workload-source.js'
import type {CallLog} from './call-log.js'

/**
 * The release's Deployments, Pods and Services as a test sets them. `publish` changes them as a watch
 * event would: every running `watch` sees the new snapshot.
 */
export class FakeWorkloadSource implements WorkloadSource {
  current: WorkloadSnapshot = {deployments: [], pods: [], services: []}
  private readonly watchers = new Set<(snapshot: WorkloadSnapshot) => void>()

  constructor(private readonly log: CallLog) {}

  async snapshot(namespace: string, labelSelector: string): Promise<WorkloadSnapshot> {
    this.log.record('workloads.snapshot', namespace, labelSelector)
    return structuredClone(this.current)
  }

  watch(
    namespace: string,
    labelSelector: string,
    onChange: (snapshot: WorkloadSnapshot) => boolean | void,
    signal?: AbortSignal,
  ): Promise<WorkloadSnapshot> {
    this.log.record('workloads.watch', namespace, labelSelector)
    return new Promise((resolve, reject) => {
      const stop = (): void => {
        this.watchers.delete(watcher)
        signal?.removeEventListener('abort', onAbort)
      }
      const watcher = (snapshot: WorkloadSnapshot): void => {
        if (onChange(structuredClone(snapshot)) === true) {
          stop()
          resolve(snapshot)
        }
      }
      const onAbort = (): void => {
        stop()
        reject(new InterruptedError('interrupted while watching the release'))
      }
      if (signal?.aborted) {
        onAbort()
        return
      }
      signal?.addEventListener('abort', onAbort, {once: true})
      this.watchers.add(watcher)
      watcher(this.current)
    })
  }

  /** Replaces the objects and tells every watch. */
  publish(snapshot: Partial<WorkloadSnapshot>): void {
    this.current = {...this.current, ...snapshot}
    for (const watcher of [...this.watchers]) watcher(this.current)
  }
}
