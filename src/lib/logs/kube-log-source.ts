import type {Readable} from 'node:stream'
import {Writable} from 'node:stream'
import {StringDecoder} from 'node:string_decoder'

import {ApiException, type Log} from '@kubernetes/client-node'

import type {KubeConnection} from '../kube/kube-connection.js'
import {statusMessage} from '../kube/kube-errors.js'
import {splitTimestamp} from './log-cursor.js'
import type {ContainerLogSource, LogStreamEnd, LogStreamRequest, RawLogLine} from './log-source.js'

/**
 * What the kubelet sends, as the whole body of an HTTP 200, when the container it was asked about has
 * already been removed (recorded on containerd: `unable to retrieve container logs for containerd://<id>`).
 */
const KUBELET_GONE = 'unable to retrieve container logs for '

/**
 * Container logs through client-node's streaming `Log` API, always with `timestamps=true` so that every
 * line has its time (shown with --timestamps, put in --json, and the cursor of a reopened stream).
 */
export class KubeContainerLogSource implements ContainerLogSource {
  readonly #log: Log

  constructor(kube: KubeConnection) {
    this.#log = kube.log
  }

  async stream(request: LogStreamRequest, onLine: (line: RawLogLine) => void): Promise<LogStreamEnd> {
    const {signal} = request
    if (signal.aborted) return {status: 'aborted'}
    const decoder = new StringDecoder('utf8')
    let partial = ''
    let count = 0
    // The first line is held back until a second one or the end shows it is not the kubelet's "gone" text.
    let held: RawLogLine | undefined
    const deliver = (raw: string): void => {
      const line = splitTimestamp(raw.endsWith('\r') ? raw.slice(0, -1) : raw)
      if (count++ === 0 && line.time === null && line.text.startsWith(KUBELET_GONE)) {
        held = line
        return
      }
      if (held !== undefined) onLine(held)
      held = undefined
      onLine(line)
    }
    const take = (text: string): void => {
      const parts = (partial + text).split('\n')
      partial = parts.pop() ?? ''
      for (const part of parts) deliver(part)
    }

    let settle: (end: LogStreamEnd) => void = () => {}
    const ended = new Promise<LogStreamEnd>((resolve) => {
      let settled = false
      settle = (end) => {
        if (settled) return
        settled = true
        signal.removeEventListener('abort', onAbort)
        // A line cut by a dropped connection comes again, whole, when the stream is reopened.
        if (end.status !== 'dropped') {
          take(decoder.end())
          if (partial !== '') deliver(partial)
          partial = ''
        }
        if (held !== undefined && end.status === 'ended') resolve({status: 'gone'})
        else resolve(end)
      }
    })
    let controller: AbortController | undefined
    const onAbort = (): void => {
      controller?.abort()
      settle({status: 'aborted'})
    }
    signal.addEventListener('abort', onAbort, {once: true})

    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        take(decoder.write(chunk))
        callback()
      },
    })
    sink.on('finish', () => settle({status: 'ended'}))
    // client-node pipes the response into the sink but does not pass on its errors: listen to the source.
    sink.on('pipe', (source: Readable) => {
      source.on('error', (error) =>
        settle(signal.aborted ? {status: 'aborted'} : {status: 'dropped', reason: error.message}),
      )
    })

    try {
      controller = await this.#log.log(request.namespace, request.pod, request.container, sink, {
        follow: request.follow,
        previous: request.previous,
        tailLines: request.tailLines,
        sinceSeconds: request.sinceSeconds,
        sinceTime: request.sinceTime,
        timestamps: true,
      })
      if (signal.aborted) controller.abort()
    } catch (error) {
      settle(failure(error))
    }
    return ended
  }
}

/** client-node turns every failure into an ApiException; one without a Status body (code 500) is a failed connection. */
function failure(error: unknown): LogStreamEnd {
  if (!(error instanceof ApiException)) {
    return {status: 'dropped', reason: error instanceof Error ? error.message : String(error)}
  }
  if (error.code >= 500) {
    return {
      status: 'dropped',
      reason: statusMessage(error.body) ?? 'the API server did not answer the log request',
    }
  }
  return {status: 'refused', httpStatus: error.code}
}
