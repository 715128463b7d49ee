import type {LogTail, LogTailRequest, PodLogSource} from '../../../src/lib/kube/rollout/pod-logs.js'

/** Log tails by `pod/container`; `[]` (an empty log) for any other. */
export class FakePodLogSource implements PodLogSource {
  readonly tails = new Map<string, string[]>()

  async tail(request: LogTailRequest): Promise<LogTail> {
    return {
      source: request.previous ? 'previous' : 'current',
      lines: (this.tails.get(`${request.pod}/${request.container}`) ?? []).slice(-request.lines),
    }
  }
}
