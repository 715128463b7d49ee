import type {ClusterNodes, NodeReader} from '../../../src/lib/cluster/cluster-nodes.js'
import {qualifiedImageRef} from '../../../src/lib/cluster/cluster-target.js'
import type {CallLog} from './call-log.js'
import {NODE_IMAGE_LIST_REFRESH_MS} from './cluster-lags.js'
import type {RuntimeImages} from './fake-cluster-target.js'

/**
 * The nodes the API server lists; none readable by default (every image question goes to the cluster
 * target). `listImagesOf` gives them one node whose `status.images` follows the runtime's images a
 * kubelet refresh late, as a real node's does: an image loaded or removed shows there only
 * `refreshLagMs` later (read with `Date.now()`, so fake timers drive it).
 */
export class FakeNodeReader implements NodeReader {
  current: ClusterNodes | null = null
  /** How late the node's list shows a change of the runtime's images: the slowest refresh by default. */
  refreshLagMs: number = NODE_IMAGE_LIST_REFRESH_MS.max
  private runtime: RuntimeImages | undefined

  constructor(private readonly log: CallLog) {}

  /** One Ready node, `minikube`, listing the runtime's images as they were a refresh ago. */
  listImagesOf(runtime: RuntimeImages): void {
    this.runtime = runtime
    this.current = {
      nodes: [
        {
          name: 'minikube',
          uid: '3f1c2a9e-0000-4000-8000-000000000001',
          bootId: '7d2e4b1a-0000-4000-8000-000000000001',
          ready: true,
          images: [],
        },
      ],
    }
  }

  async read(): Promise<ClusterNodes | null> {
    this.log.record('nodes.read')
    const read = structuredClone(this.current)
    if (read && this.runtime) {
      const listed = this.runtime.at(Date.now() - this.refreshLagMs).map(qualifiedImageRef)
      for (const node of read.nodes) node.images = listed
    }
    return read
  }
}
