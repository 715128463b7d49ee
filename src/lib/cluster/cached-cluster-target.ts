import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import path from 'node:path'

import type * as target from './cluster-target.js'
import {nodesIdentity, type NodeReader} from './cluster-nodes.js'

/** What costs a call of the cluster's tool and stays true for as long as the nodes are not rebooted. */
export interface ClusterFacts {
  /** The tool said the cluster runs (`minikube status`). */
  running?: true
  runtime?: target.NodeRuntime
  builderEnv?: Record<string, string> | null
  /** `frontendUrl` answers by request (`minikube service --url`), for a fixed node port or Ingress host. */
  urls?: Record<string, string>
}

interface CacheEntry {
  version: 1
  cluster: string
  /** The nodes' UIDs and boot IDs when the facts were learnt. */
  nodes: string
  facts: ClusterFacts
}

/**
 * A ClusterTarget whose slow answers (each a subprocess of minikube, kind, k3d) are kept in a file per
 * kube context and reused while the API server shows the same nodes, same boot: a recreated or restarted
 * cluster has another node UID or boot ID, and the facts are learnt again. When the API server cannot be
 * read, every question goes to the tool, which says best what is wrong.
 */
export class CachedClusterTarget implements target.ClusterTarget {
  readonly kind: target.ClusterTarget['kind']
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly inner: target.ClusterTarget,
    private readonly nodes: NodeReader,
    /** The cache file (one per kube context). */
    private readonly file: string,
  ) {
    this.kind = inner.kind
  }

  describe(): string {
    return this.inner.describe()
  }

  version(): Promise<string> {
    return this.inner.version()
  }

  async ensureRunning(): Promise<void> {
    const known = await this.current()
    // A node that is not Ready gets the tool's precise diagnosis (stopped kubelet, paused, ...).
    if (known?.facts.running && known.ready) return
    await this.inner.ensureRunning()
    await this.remember(known, {running: true})
  }

  async nodeRuntime(): Promise<target.NodeRuntime> {
    const known = await this.current()
    if (known?.facts.runtime) return known.facts.runtime
    const runtime = await this.inner.nodeRuntime()
    await this.remember(known, {runtime})
    return runtime
  }

  async builderEnv(): Promise<Record<string, string> | null> {
    const known = await this.current()
    if (known?.facts.builderEnv !== undefined) return known.facts.builderEnv
    const builderEnv = await this.inner.builderEnv()
    await this.remember(known, {builderEnv})
    return builderEnv
  }

  async frontendUrl(request: target.FrontendUrlRequest): Promise<string | null> {
    // A node port the cluster picked belongs to one Service object: `down` and `up` make another one,
    // with another port, so only a URL the request fixes (its node port or Ingress host) is a fact.
    if (request.nodePort === undefined && request.ingressHost === undefined)
      return this.inner.frontendUrl(request)
    const key = JSON.stringify(request)
    const known = await this.current()
    const cached = known?.facts.urls?.[key]
    if (cached !== undefined) return cached
    const url = await this.inner.frontendUrl(request)
    // No address yet is not a fact: a load balancer or an Ingress may get one at any time.
    if (url !== null) await this.remember(known, {urls: {...known?.facts.urls, [key]: url}})
    return url
  }

  imagePresent(ref: string, expectedImageId?: string): Promise<boolean> {
    return this.inner.imagePresent(ref, expectedImageId)
  }

  loadImage(ref: string, options?: target.LoadImageOptions): Promise<target.LoadImageResult> {
    return this.inner.loadImage(ref, options)
  }

  removeImage(ref: string): Promise<boolean> {
    return this.inner.removeImage(ref)
  }

  /**
   * The nodes as the API server shows them now, and the facts cached for exactly these nodes (empty
   * when the cache was learnt on other nodes or another boot); undefined when the API cannot be read.
   */
  private async current(): Promise<{nodes: string; ready: boolean; facts: ClusterFacts} | undefined> {
    const cluster = await this.nodes.read()
    if (cluster === null || cluster.nodes.length === 0) return undefined
    const nodes = nodesIdentity(cluster)
    const ready = cluster.nodes.every((node) => node.ready)
    const entry = await this.readEntry()
    const facts = entry?.nodes === nodes && entry.cluster === this.describe() ? entry.facts : {}
    return {nodes, ready, facts}
  }

  private async readEntry(): Promise<CacheEntry | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.file, 'utf8')) as CacheEntry
      return entry.version === 1 ? entry : undefined
    } catch {
      return undefined
    }
  }

  /** Adds facts to the entry of these nodes, one write at a time (answers arrive in parallel). Best effort. */
  private remember(known: {nodes: string} | undefined, facts: ClusterFacts): Promise<void> {
    if (known === undefined) return Promise.resolve()
    this.writing = this.writing.then(() => this.write(known.nodes, facts))
    return this.writing
  }

  private async write(nodes: string, facts: ClusterFacts): Promise<void> {
    const entry = await this.readEntry()
    const kept = entry?.nodes === nodes && entry.cluster === this.describe() ? entry.facts : {}
    const next: CacheEntry = {
      version: 1,
      cluster: this.describe(),
      nodes,
      facts: {...kept, ...facts, urls: {...kept.urls, ...facts.urls}},
    }
    const temporary = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}`
    try {
      await mkdir(path.dirname(this.file), {recursive: true})
      await writeFile(temporary, JSON.stringify(next), {mode: 0o600})
      await rename(temporary, this.file)
    } catch {
      // A cache that cannot be written only costs the tool's calls next time.
    }
  }
}
