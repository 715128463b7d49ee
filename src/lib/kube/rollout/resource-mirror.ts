import {setTimeout as sleep} from 'node:timers/promises'
import type {KubernetesObject, Watch} from '@kubernetes/client-node'

export interface RetryPolicy {
  /** Consecutive failed list/watch attempts before giving up. */
  attempts: number
  /** First back-off; doubles per failure up to maxDelayMs. */
  initialDelayMs: number
  maxDelayMs: number
}

/** 5 attempts with waits of 2+4+8+16 s between them: about 30 s of an unreachable API server, then give up. */
export const DEFAULT_RETRY: RetryPolicy = {attempts: 5, initialDelayMs: 2000, maxDelayMs: 16_000}

export interface MirrorOptions<T extends KubernetesObject> {
  /** Plural resource name, for messages: "pods". */
  resource: string
  /** The watch path: /api/v1/namespaces/<ns>/pods. */
  path: string
  labelSelector?: string
  list: () => Promise<{items: T[]; metadata?: {resourceVersion?: string}}>
  watch: Watch
  retry: RetryPolicy
  onChange: () => void
  /** Called once when the retries are used up; the mirror has stopped. */
  onGiveUp: (lastError: unknown, attempts: number, elapsedMs: number) => void
}

interface WatchEnd {
  error?: unknown
  expired: boolean
}

/**
 * A local copy of one resource kept current by LIST then WATCH from the list's resourceVersion. A dropped watch
 * resumes from the last version seen; an expired version (410 Gone) re-lists; failures back off and, when they keep
 * coming, give up through onGiveUp.
 */
export class ResourceMirror<T extends KubernetesObject> {
  readonly items = new Map<string, T>()
  /** True once the first LIST has been loaded. */
  synced = false
  private resourceVersion: string | undefined
  private stopped = false
  private controller: AbortController | undefined
  private failures = 0
  private firstFailureAt = 0

  constructor(private readonly options: MirrorOptions<T>) {}

  start(): void {
    void this.run()
  }

  stop(): void {
    this.stopped = true
    this.controller?.abort()
  }

  private async run(): Promise<void> {
    let needList = true
    while (!this.stopped) {
      if (needList) {
        try {
          const list = await this.options.list()
          if (this.stopped) return
          this.items.clear()
          for (const item of list.items) this.items.set(item.metadata?.name ?? '', item)
          this.resourceVersion = list.metadata?.resourceVersion
          needList = false
          this.synced = true
          this.failures = 0
          this.options.onChange()
          // The first picture can be the one the caller was waiting for: then no watch is opened.
          if (this.stopped) return
        } catch (error) {
          if (!(await this.backOff(error))) return
          continue
        }
      }
      const end = await this.watchOnce()
      if (this.stopped) return
      if (end.expired) needList = true
      else if (end.error !== undefined) {
        if (!(await this.backOff(end.error))) return
      } else {
        // The server closed a healthy watch (its timeout): resume after a short pause, so a server that keeps
        // closing at once cannot make this loop spin.
        await sleep(Math.min(250, this.options.retry.initialDelayMs))
      }
    }
  }

  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let expired = false
      const onEvent = (type: string, object: T & {code?: number}): void => {
        if (this.stopped) return
        this.failures = 0
        if (type === 'ERROR') {
          expired = object.code === 410
          if (!expired)
            resolve({
              error: new Error(`watch of ${this.options.resource} failed: ${JSON.stringify(object)}`),
              expired,
            })
          this.controller?.abort()
          return
        }
        this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion
        if (type === 'BOOKMARK') return
        const name = object.metadata?.name ?? ''
        if (type === 'DELETED') this.items.delete(name)
        else this.items.set(name, object)
        this.options.onChange()
      }
      const onDone = (error: unknown): void => {
        const gone = (error as {statusCode?: number} | null)?.statusCode === 410
        resolve({error: expired || gone ? undefined : (error ?? undefined), expired: expired || gone})
      }
      const query: Record<string, string | boolean> = {allowWatchBookmarks: true}
      if (this.options.labelSelector !== undefined) query.labelSelector = this.options.labelSelector
      if (this.resourceVersion !== undefined) query.resourceVersion = this.resourceVersion
      this.options.watch.watch(this.options.path, query, onEvent, onDone).then(
        (controller) => {
          this.controller = controller
          if (this.stopped) controller.abort()
        },
        (error: unknown) => resolve({error, expired: false}),
      )
    })
  }

  /** Records a failure; waits the back-off and returns true, or gives up and returns false. */
  private async backOff(error: unknown): Promise<boolean> {
    if (this.stopped) return false
    if (this.failures === 0) this.firstFailureAt = Date.now()
    this.failures += 1
    const {attempts, initialDelayMs, maxDelayMs} = this.options.retry
    if (this.failures >= attempts) {
      this.stopped = true
      this.options.onGiveUp(error, this.failures, Date.now() - this.firstFailureAt)
      return false
    }
    await sleep(Math.min(maxDelayMs, initialDelayMs * 2 ** (this.failures - 1)))
    return !this.stopped
  }
}
