import http from 'node:http'
import https from 'node:https'

import {type RequestContext, ResponseContext, SelfDecodingBody} from '@kubernetes/client-node'

/** A request to the Kubernetes API that got no complete answer in time; the socket has been destroyed. */
export class KubeRequestTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} ${path} got no answer within ${timeoutMs} ms`)
    this.name = 'KubeRequestTimeoutError'
  }
}

/**
 * Sends client-node's requests with node:http(s) and a hard deadline per request: client-node's own
 * fetch library has no timeout at all (a stopped API server hangs the CLI forever).
 */
export function sendWithDeadline(request: RequestContext, timeoutMs: number): Promise<ResponseContext> {
  const url = new URL(request.getUrl())
  const method = request.getHttpMethod().toString()
  const rawBody = request.getBody()
  const body =
    rawBody === undefined
      ? undefined
      : Buffer.from(typeof rawBody === 'string' ? rawBody : rawBody.toString())
  // Node frames a DELETE body only when told its length (no chunked encoding for DELETE by default).
  const headers =
    body === undefined
      ? request.getHeaders()
      : {...request.getHeaders(), 'Content-Length': String(body.length)}
  const transport = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const outgoing = transport.request(url, {method, headers, agent: request.getAgent()}, (incoming) => {
      const chunks: Buffer[] = []
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
      incoming.on('error', reject)
      incoming.on('end', () => {
        clearTimeout(deadline)
        const responseHeaders: Record<string, string> = {}
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value
        }
        resolve(
          new ResponseContext(
            incoming.statusCode ?? 0,
            responseHeaders,
            new SelfDecodingBody(Promise.resolve(Buffer.concat(chunks))),
          ),
        )
      })
    })
    const deadline = setTimeout(
      () => outgoing.destroy(new KubeRequestTimeoutError(method, url.pathname, timeoutMs)),
      timeoutMs,
    )
    outgoing.on('error', (error) => {
      clearTimeout(deadline)
      reject(error)
    })
    if (body !== undefined) outgoing.write(body)
    outgoing.end()
  })
}
