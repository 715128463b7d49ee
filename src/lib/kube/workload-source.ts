import {
  AppsV1Api,
  CoreV1Api,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node'

import {boundedApiClient} from './kube-http.js'

import {InterruptedError, PrerequisiteError} from '../errors.js'
import {DEFAULT_RETRY, describeFailure, ResourceMirror, type RetryPolicy} from './rollout/resource-mirror.js'

/** The release's running objects, as `status` and `down` read them. */
export interface WorkloadSnapshot {
  deployments: V1Deployment[]
  pods: V1Pod[]
  services: V1Service[]
}

export interface WorkloadSource {
  /** One read of the objects the selector matches. */
  snapshot(namespace: string, labelSelector: string): Promise<WorkloadSnapshot>
  /**
   * Keeps a live copy by LIST + WATCH and calls `onChange` with it after every change, until
   * `onChange` returns true (done) or the signal aborts (InterruptedError). No polling.
   */
  watch(
    namespace: string,
    labelSelector: string,
    onChange: (snapshot: WorkloadSnapshot) => boolean | void,
    signal?: AbortSignal,
  ): Promise<WorkloadSnapshot>
}

/** client-node's list + watch, with the RolloutTracker's resume-on-drop mirrors. */
export class KubeWorkloadSource implements WorkloadSource {
  private readonly apps: AppsV1Api
  private readonly core: CoreV1Api

  constructor(
    private readonly kc: KubeConfig,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.apps = boundedApiClient(kc, AppsV1Api)
    this.core = boundedApiClient(kc, CoreV1Api)
  }

  async snapshot(namespace: string, labelSelector: string): Promise<WorkloadSnapshot> {
    try {
      const [deployments, pods, services] = await Promise.all([
        this.apps.listNamespacedDeployment({namespace, labelSelector}),
        this.core.listNamespacedPod({namespace, labelSelector}),
        this.core.listNamespacedService({namespace, labelSelector}),
      ])
      return {deployments: deployments.items, pods: pods.items, services: services.items}
    } catch (error) {
      throw this.unreachable(error)
    }
  }

  watch(
    namespace: string,
    labelSelector: string,
    onChange: (snapshot: WorkloadSnapshot) => boolean | void,
    signal?: AbortSignal,
  ): Promise<WorkloadSnapshot> {
    return new Promise<WorkloadSnapshot>((resolve, reject) => {
      const watch = new Watch(this.kc)
      let settled = false
      const current = (): WorkloadSnapshot => ({
        deployments: [...deployments.items.values()],
        pods: [...pods.items.values()],
        services: [...services.items.values()],
      })
      const finish = (error?: unknown): void => {
        if (settled) return
        settled = true
        for (const mirror of mirrors) mirror.stop()
        signal?.removeEventListener('abort', onAbort)
        if (error === undefined) resolve(current())
        else reject(error)
      }
      const changed = (): void => {
        if (settled || !mirrors.every((mirror) => mirror.synced)) return
        if (onChange(current()) === true) finish()
      }
      const mirror = <T extends KubernetesObject>(
        resource: string,
        path: string,
        list: () => Promise<{items: T[]}>,
      ) =>
        new ResourceMirror<T>({
          resource,
          path,
          labelSelector,
          list,
          watch,
          retry: this.retry,
          onChange: changed,
          onGiveUp: (lastError, attempts) =>
            finish(
              new PrerequisiteError(
                `lost the Kubernetes API server at ${this.kc.getCurrentCluster()?.server ?? '?'} while watching ${resource}: ${attempts} attempts failed (${describeFailure(lastError)})`,
                {
                  fix: 'check the cluster: `minikube status` / `kubectl cluster-info`',
                },
              ),
            ),
        })
      const deployments = mirror<V1Deployment>(
        'deployments',
        `/apis/apps/v1/namespaces/${namespace}/deployments`,
        () => this.apps.listNamespacedDeployment({namespace, labelSelector}),
      )
      const pods = mirror<V1Pod>('pods', `/api/v1/namespaces/${namespace}/pods`, () =>
        this.core.listNamespacedPod({namespace, labelSelector}),
      )
      const services = mirror<V1Service>('services', `/api/v1/namespaces/${namespace}/services`, () =>
        this.core.listNamespacedService({namespace, labelSelector}),
      )
      const mirrors = [deployments, pods, services] as ResourceMirror<KubernetesObject>[]
      const onAbort = (): void => finish(new InterruptedError('interrupted by the user'))
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, {once: true})
      for (const each of mirrors) each.start()
    })
  }

  private unreachable(error: unknown): unknown {
    const code = (error as {code?: unknown})?.code
    if (typeof code === 'number') return error
    return new PrerequisiteError(
      `cannot reach the Kubernetes API at ${this.kc.getCurrentCluster()?.server ?? '?'}: ${describeFailure(error)}`,
      {
        fix: 'is the cluster running? `minikube status`, `kubectl cluster-info`',
      },
    )
  }
}
