/**
 * The seam between the log multiplexer and the Kubernetes API: one container's log, read once or
 * followed. Production streams through client-node's `Log`; tests pass a double or the replay server.
 */

/** One log line as the kubelet sent it: its RFC3339 timestamp (null when the line carried none) and text. */
export interface RawLogLine {
  time: string | null
  text: string
}

export interface LogStreamRequest {
  namespace: string
  pod: string
  container: string
  /** Keep the stream open and deliver new lines until the container stops or the stream is cut. */
  follow: boolean
  /** The previous (crashed) instance of the container instead of the current one. */
  previous: boolean
  /** The last N lines only; absent: from the start (or from `sinceSeconds`/`sinceTime`). */
  tailLines?: number
  /** Only lines of the last N seconds; at most one of sinceSeconds and sinceTime. */
  sinceSeconds?: number
  /** Only lines at or after this RFC3339 time (inclusive, like the kubelet). */
  sinceTime?: string
  signal: AbortSignal
}

/**
 * How a stream ended:
 * - `ended`: the API server closed it (the container stopped, or a non-follow read is complete);
 * - `aborted`: the request's signal stopped it;
 * - `refused`: the API server answered an HTTP error instead (400 while a container is waiting to
 *   start or when a previous instance is missing, 404 when the pod is gone, 204 when never scheduled);
 * - `gone`: the kubelet no longer has the container's log (a removed crashed instance);
 * - `dropped`: the connection broke mid-stream or could not be made.
 */
export type LogStreamEnd =
  | {status: 'ended'}
  | {status: 'aborted'}
  | {status: 'refused'; httpStatus: number}
  | {status: 'gone'}
  | {status: 'dropped'; reason: string}

export interface ContainerLogSource {
  /** Delivers the container's log line by line to `onLine`; resolves when the stream ends, never rejects. */
  stream(request: LogStreamRequest, onLine: (line: RawLogLine) => void): Promise<LogStreamEnd>
}
