import type {
  ContainerLogSource,
  LogStreamEnd,
  LogStreamRequest,
  RawLogLine,
} from '../../src/lib/logs/log-source.js'

interface ScriptedLog {
  current: RawLogLine[]
  /** The previous instance's lines, or `gone` when the kubelet no longer has them. */
  previous?: RawLogLine[] | 'gone'
  /** The API server's answer instead of a log (400 while waiting to start). */
  refuse?: number
}

/**
 * Container logs as a test scripts them, by `pod/container`. A followed stream stays open (and gets
 * what `write` adds) until the request's signal aborts; `requests` records every call.
 */
export class FakeContainerLogSource implements ContainerLogSource {
  readonly requests: Omit<LogStreamRequest, 'signal'>[] = []
  private readonly logs = new Map<string, ScriptedLog>()
  private readonly followers = new Map<string, Set<(line: RawLogLine) => void>>()

  /** Sets a container's log; lines are `[time, text]` pairs. */
  script(
    pod: string,
    container: string,
    log: {current?: Array<[string, string]>; previous?: Array<[string, string]> | 'gone'; refuse?: number},
  ): void {
    const toLines = (pairs: Array<[string, string]>) => pairs.map(([time, text]) => ({time, text}))
    this.logs.set(`${pod}/${container}`, {
      current: toLines(log.current ?? []),
      previous: log.previous === 'gone' ? 'gone' : log.previous && toLines(log.previous),
      refuse: log.refuse,
    })
  }

  /** Appends a line to a container's current log; followed streams get it at once. */
  write(pod: string, container: string, time: string, text: string): void {
    const key = `${pod}/${container}`
    const log = this.logs.get(key) ?? {current: []}
    this.logs.set(key, log)
    log.current.push({time, text})
    for (const follower of this.followers.get(key) ?? []) follower({time, text})
  }

  async stream(request: LogStreamRequest, onLine: (line: RawLogLine) => void): Promise<LogStreamEnd> {
    const {signal, ...recorded} = request
    this.requests.push(recorded)
    const key = `${request.pod}/${request.container}`
    const log = this.logs.get(key) ?? {current: []}
    if (log.refuse !== undefined) return {status: 'refused', httpStatus: log.refuse}
    const source = request.previous ? log.previous : log.current
    if (source === 'gone') return {status: 'gone'}
    if (source === undefined) return {status: 'refused', httpStatus: 400}
    const since =
      request.sinceTime ??
      (request.sinceSeconds === undefined
        ? undefined
        : new Date(Date.now() - request.sinceSeconds * 1000).toISOString())
    let lines =
      since === undefined ? source : source.filter((line) => line.time !== null && line.time >= since)
    if (request.tailLines !== undefined) lines = lines.slice(-request.tailLines)
    for (const line of lines) onLine(line)
    if (!request.follow) return {status: 'ended'}
    if (signal.aborted) return {status: 'aborted'}
    const followers = this.followers.get(key) ?? new Set()
    this.followers.set(key, followers)
    followers.add(onLine)
    await new Promise((resolve) => signal.addEventListener('abort', resolve, {once: true}))
    followers.delete(onLine)
    return {status: 'aborted'}
  }
}
