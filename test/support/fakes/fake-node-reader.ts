import type {ClusterNodes, NodeReader} from '../../../src/lib/cluster/cluster-nodes.js'
import type {CallLog} from './call-log.js'

/** The nodes the API server lists; none readable by default (every image question goes to the cluster target). */
export class FakeNodeReader implements NodeReader {
  current: ClusterNodes | null = null

  constructor(private readonly log: CallLog) {}

  async read(): Promise<ClusterNodes | null> {
    this.log.record('nodes.read')
    return structuredClone(this.current)
  }
}
