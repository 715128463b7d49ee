import type {AppForward, AppReach, ForwardOptions} from '../../../src/lib/kube/app-reach.js'
import type {CallLog} from './call-log.js'
import type {FakeTraffic} from './fake-traffic.js'

/**
 * The app as seen from this machine: URLs answer (or not) as told, a GET answers with the version
 * the cluster serves at that moment, and a port-forward opens on a fixed
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

  constructor(
    private readonly log: CallLog,
    private readonly traffic?: FakeTraffic,
  ) {}

  /** The body one GET of `url` answers with: the version the URL serves now (FakeTraffic). */
  async get(url: string): Promise<string | undefined> {
    this.log.record('reach.get', url)
    return this.traffic?.get()
  }

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
