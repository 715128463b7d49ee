import {ApiException, type CoreV1Api} from '@kubernetes/client-node'

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
  /** Why no lines could be read (the API server's own words), when none could. */
  unavailable?: string
}

export interface PodLogSource {
  tail(request: LogTailRequest): Promise<LogTail>
}

// The kubelet answers 200 with this text when the container it was asked about is already gone.
const KUBELET_GONE = 'unable to retrieve container logs'

/** Reads log tails through the API server; never throws: a diagnosis must not fail because logs are missing. */
export class KubePodLogSource implements PodLogSource {
  constructor(private readonly core: CoreV1Api) {}

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
      if (text.startsWith(KUBELET_GONE)) return {source, lines: [], unavailable: text.trim()}
      const lines = text.split('\n')
      if (lines.at(-1) === '') lines.pop()
      return {source, lines: lines.slice(-request.lines)}
    } catch (error) {
      return {source, lines: [], unavailable: unavailableReason(error)}
    }
  }
}

function unavailableReason(error: unknown): string {
  if (error instanceof ApiException) return statusMessage(error.body) ?? `HTTP ${error.code}`
  // client-node cannot parse the API server's 204 answer (no Content-Type), given while the pod has no container yet.
  const message = error instanceof Error ? error.message : String(error)
  return message.includes('No Content-Type') ? 'no logs: the container has not started' : message
}
