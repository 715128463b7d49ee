import type {V1LoadBalancerIngress} from '@kubernetes/client-node'

import {nullIfNotFound} from '../kube/kube-errors.js'
import type {KubeConnection} from '../kube/kube-connection.js'

/** How the frontend's Service is published, as the API server reports it. */
export interface PublishedService {
  type: string
  port: number
  /** The load balancer's address (hostname or IP) once the cloud gave it one, else null. */
  loadBalancer: string | null
}

/** Where a cluster the CLI does not run publishes the app: read from the API server, never guessed. */
export interface PublishedAddresses {
  /** Whether an Ingress in `namespace` serves `host` and has been given an address. */
  ingressServes(namespace: string, host: string): Promise<boolean>
  /** The Service, or null when it does not exist. */
  service(namespace: string, name: string): Promise<PublishedService | null>
}

/** PublishedAddresses through the connection's API clients. */
export class KubePublishedAddresses implements PublishedAddresses {
  private readonly core: KubeConnection['core']
  private readonly networking: KubeConnection['networking']

  constructor(kube: Pick<KubeConnection, 'core' | 'networking'>) {
    this.core = kube.core
    this.networking = kube.networking
  }

  async ingressServes(namespace: string, host: string): Promise<boolean> {
    const list = await this.networking.listNamespacedIngress({namespace})
    return list.items.some(
      (ingress) =>
        (ingress.spec?.rules ?? []).some((rule) => rule.host === host) &&
        address(ingress.status?.loadBalancer?.ingress) !== null,
    )
  }

  async service(namespace: string, name: string): Promise<PublishedService | null> {
    const service = await nullIfNotFound(this.core.readNamespacedService({name, namespace}))
    if (service === null) return null
    return {
      type: service.spec?.type ?? 'ClusterIP',
      port: service.spec?.ports?.[0]?.port ?? 80,
      loadBalancer: address(service.status?.loadBalancer?.ingress),
    }
  }
}

function address(ingress: V1LoadBalancerIngress[] | undefined): string | null {
  const first = ingress?.[0]
  return first?.hostname ?? first?.ip ?? null
}
