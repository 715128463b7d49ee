import type {AppForward, AppReach, ForwardOptions} from '../../../src/lib/kube/app-reach.js'
import type {CallLog} from './call-log.js'

/**
 * The app as seen from this machine: URLs answer (or not) as told, and a port-forward opens on a fixed
 * local URL (or fails as told). Counts the forwards still open, so a test sees which ones were closed.
 */
export class FakeAppReach implements AppReach {
  /** What `answers` says for every URL. */
  answer = true
  /** Thrown by `forward` (a pod that does not answer, no Ready pod). */
  forwardFailure: Error | undefined
  /** The port a forward listens on: the preferred one, else this. */
  freePort = 40123
  open = 0
  refreshes = 0

  constructor(private readonly log: CallLog) {}

  async answers(url: string, timeoutMs: number): Promise<boolean> {
    this.log.record('reach.answers', url, timeoutMs)
    return this.answer
  }

  async forward(namespace: string, service: string, options: ForwardOptions = {}): Promise<AppForward> {
    this.log.record('reach.forward', namespace, service, options)
    if (this.forwardFailure) throw this.forwardFailure
    this.open++
    let closed = false
    return {
      url: `http://127.0.0.1:${options.preferredLocalPort ?? this.freePort}`,
      refresh: () => {
        this.refreshes++
      },
      close: async () => {
        if (closed) return
        closed = true
        this.open--
        this.log.record('reach.close', namespace, service)
      },
    }
  }
}
