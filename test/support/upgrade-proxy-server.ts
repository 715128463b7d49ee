import http from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Duplex} from 'node:stream'

import {WebSocketServer} from 'ws'

import type {FakeKubeApiServer} from './kube-api-server.js'

type UpgradeHandler = (
  request: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  webSockets: WebSocketServer,
) => void

/**
 * The front of a fake API server that speaks one WebSocket subprotocol (exec, port-forward): upgrades go
 * to `onUpgrade`, every other request to the FakeKubeApiServer behind it, so pods and Services come from
 * there. Stopping it ends the open sessions as a server going away would.
 */
export class UpgradeProxyServer {
  readonly #server: http.Server
  readonly #sockets = new Set<Duplex>()
  readonly #webSockets: WebSocketServer

  private constructor(api: FakeKubeApiServer, protocol: string, onUpgrade: UpgradeHandler) {
    this.#webSockets = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => (offered.has(protocol) ? protocol : false),
    })
    this.#server = http.createServer((request, response) => proxy(api, request, response))
    this.#server.on('upgrade', (request, socket, head) => onUpgrade(request, socket, head, this.#webSockets))
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }

  static async start(
    api: FakeKubeApiServer,
    protocol: string,
    onUpgrade: UpgradeHandler,
  ): Promise<UpgradeProxyServer> {
    const instance = new UpgradeProxyServer(api, protocol, onUpgrade)
    await new Promise<void>((resolve) => instance.#server.listen(0, '127.0.0.1', resolve))
    return instance
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    for (const client of this.#webSockets.clients) client.terminate()
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

/** Answers an upgrade request with a Kubernetes Status error, as the API server refuses one. */
export function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify({kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code})
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

function proxy(api: FakeKubeApiServer, request: http.IncomingMessage, response: http.ServerResponse): void {
  const upstream = http.request(
    `${api.url}${request.url ?? '/'}`,
    {method: request.method, headers: request.headers},
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(response)
    },
  )
  upstream.on('error', () => response.destroy())
  request.pipe(upstream)
}
