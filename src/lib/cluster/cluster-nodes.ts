import type {V1Node} from '@kubernetes/client-node'

import {qualifiedImageRef} from './cluster-target.js'

/** What the API server says of one node, for free: who it is (UID, boot), whether it is ready, its images. */
export interface NodeStatus {
  name: string
  uid: string
  /** Changes on every boot of the node: a restarted minikube is a new boot. */
  bootId: string
  ready: boolean
  /** The image names the kubelet reports (`docker.io/library/todo-frontend:c-…`). */
  images: string[]
}

/** The cluster's nodes as the API server lists them. */
export interface ClusterNodes {
  nodes: NodeStatus[]
}

/** Reads the nodes through the API server; null when it cannot (unreachable, not allowed to list nodes). */
export interface NodeReader {
  read(): Promise<ClusterNodes | null>
}

export function nodeStatusOf(node: V1Node): NodeStatus {
  return {
    name: node.metadata?.name ?? '',
    uid: node.metadata?.uid ?? '',
    bootId: node.status?.nodeInfo?.bootID ?? '',
    ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    images: (node.status?.images ?? []).flatMap((image) => image.names ?? []),
  }
}

/** The nodes' UIDs and boot IDs in one string: it changes when a node is recreated or rebooted. */
export function nodesIdentity(cluster: ClusterNodes): string {
  return cluster.nodes
    .map((node) => `${node.uid}/${node.bootId}`)
    .sort()
    .join(',')
}

/**
 * The nodes that list `ref`, when every node lists it (a pod may land on any of them), else undefined.
 * The kubelet refreshes the list every 30-40 s and reports at most 50 images, so a missing name proves
 * nothing: only a listed one counts.
 */
export function nodesListing(cluster: ClusterNodes | null, ref: string): string[] | undefined {
  if (cluster === null || cluster.nodes.length === 0) return undefined
  const wanted = qualifiedImageRef(ref)
  const listing = cluster.nodes.every((node) =>
    node.images.some((name) => !name.includes('@') && qualifiedImageRef(name) === wanted),
  )
  return listing ? cluster.nodes.map((node) => node.name) : undefined
}

/**
 * Reads the nodes with one LIST; concurrent callers share the request in flight (the preflight asks
 * for the cluster's facts and its images at once), a later caller reads afresh.
 */
export class SharedNodeReader implements NodeReader {
  private pending: Promise<ClusterNodes | null> | undefined

  constructor(private readonly list: () => Promise<{items: V1Node[]}>) {}

  read(): Promise<ClusterNodes | null> {
    this.pending ??= this.list()
      .then((list) => ({nodes: list.items.map(nodeStatusOf)}))
      .catch(() => null)
      .finally(() => {
        this.pending = undefined
      })
    return this.pending
  }
}
