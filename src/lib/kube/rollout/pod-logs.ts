import {ApiException} from '@kubernetes/client-node'

import type {CoreApi} from '../kube-api.js'
import {statusMessage} from '../kube-errors.js'

export interface LogTailRequest {
  namespace: string
  pod: string
  container: string
  /** The previous (crashed) instance of the container rather than the running one. */
  previous: boolean
  lines: number
}

export interface LogTail {
  source: 'current' | 'previous'
  lines: string[]
  /** Why no lines could be read, when none could: our words for the kubelet's, else the API server's. */
  unavailable?: string
  /** Set when these are the current container's lines because the crashed one's could not be read: why. */
  crashedUnavailable?: string
}

export interface PodLogSource {
  tail(request: LogTailRequest): Promise<LogTail>
}

/**
 * The kubelet's answer when a container's log file is gone or was never written (a container that exited
 * without output): 200 with this text on some versions, HTTP 400 with it as the Status message on
 * others (Kubernetes 1.24 with containerd). It is the kubelet's text, never the app's.
 */
const KUBELET_GONE = 'unable to retrieve container logs'

function goneReason(previous: boolean): string {
  return previous
    ? 'the crashed container wrote no log lines, or its logs are gone'
    : 'the container wrote no log lines, or its logs are gone'
}

/** Reads log tails through the API server; never throws: a diagnosis must not fail because logs are missing. */
export class KubePodLogSource implements PodLogSource {
  constructor(private readonly core: Pick<CoreApi, 'readNamespacedPodLog'>) {}

  async tail(request: LogTailRequest): Promise<LogTail> {
    const source = request.previous ? 'previous' : 'current'
    try {
      const text = await this.core.readNamespacedPodLog({
        name: request.pod,
        namespace: request.namespace,
        container: request.container,
        previous: request.previous,
        tailLines: request.lines,
      })
      if (text.startsWith(KUBELET_GONE)) return {source, lines: [], unavailable: goneReason(request.previous)}
      const lines = text.split('\n')
      if (lines.at(-1) === '') lines.pop()
      return {source, lines: lines.slice(-request.lines)}
    } catch (error) {
      const reason = unavailableReason(error)
      return {
        source,
        lines: [],
        unavailable: reason.startsWith(KUBELET_GONE) ? goneReason(request.previous) : reason,
      }
    }
  }
}

/**
 * The log tail that tells why a container failed: a crashed container's story is in its previous
 * instance; when that one cannot be read (gone, or it wrote nothing), the current instance's lines are
 * shown instead, and the reason the crashed one's are missing is kept.
 */
export async function crashLogs(
  source: PodLogSource,
  request: Omit<LogTailRequest, 'previous'>,
  crashed: boolean,
): Promise<LogTail> {
  const logs = await source.tail({...request, previous: crashed})
  if (!crashed || logs.lines.length > 0) return logs
  const current = await source.tail({...request, previous: false})
  if (current.lines.length === 0) return logs
  return {...current, crashedUnavailable: logs.unavailable ?? goneReason(true)}
}

function unavailableReason(error: unknown): string {
  if (error instanceof ApiException) return statusMessage(error.body) ?? `HTTP ${error.code}`
  // client-node cannot parse the API server's 204 answer (no Content-Type), given while the pod has no container yet.
  const message = error instanceof Error ? error.message : String(error)
  return message.includes('No Content-Type') ? 'no logs: the container has not started' : message
}
