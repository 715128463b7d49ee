import http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import type {Duplex} from 'node:stream'

import {WebSocketServer, type WebSocket} from 'ws'

import type {FakeKubeApiServer} from './kube-api-server.js'

/** The subprotocol the kubelet's WebSocket port-forward speaks (and the one client-node understands). */
export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io'

const PORT_FORWARD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/

export interface ForwardSession {
  namespace: string
  pod: string
  port: number
  authorization: string | undefined
  protocol: string
}

/** Where a pod's port really is: a server on 127.0.0.1 (undefined: nothing listens, as for a crashed container). */
export type PodPorts = (pod: string, port: number) => number | undefined

/**
 * An API server front that speaks the port-forward protocol the way the API server and kubelet do:
 * a WebSocket upgrade of GET .../pods/<pod>/portforward?ports=N with subprotocol v4.channel.k8s.io;
 * each binary frame starts with its channel byte (0: data, 1: errors of that port), and the first
 * frame of each channel is the port as two little-endian bytes. Bytes are relayed to a real local
 * TCP server. Every other request goes to the FakeKubeApiServer behind it, so Services and Pods come
 * from there, and a pod deleted there refuses the upgrade with 404 as the real server does.
 */
export class PortForwardApiServer {
  readonly sessions: ForwardSession[] = []
  readonly #server: http.Server
  readonly #sockets = new Set<Duplex>()
  readonly #webSockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has(PORT_FORWARD_PROTOCOL) ? PORT_FORWARD_PROTOCOL : false),
  })

  private constructor(
    private readonly api: FakeKubeApiServer,
    private readonly podPorts: PodPorts,
  ) {
    this.#server = http.createServer((request, response) => this.#proxy(request, response))
    this.#server.on('upgrade', (request, socket, head) => this.#upgrade(request, socket, head))
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }

  static async start(api: FakeKubeApiServer, podPorts: PodPorts): Promise<PortForwardApiServer> {
    const instance = new PortForwardApiServer(api, podPorts)
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

  #proxy(request: http.IncomingMessage, response: http.ServerResponse): void {
    const upstream = http.request(
      `${this.api.url}${request.url ?? '/'}`,
      {method: request.method, headers: request.headers},
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      },
    )
    upstream.on('error', () => response.destroy())
    request.pipe(upstream)
  }

  #upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://fake')
    const match = PORT_FORWARD_PATH.exec(url.pathname)
    const port = Number(url.searchParams.get('ports'))
    if (match === null || !Number.isInteger(port) || port < 1)
      return refuse(socket, 400, 'bad port-forward request')
    const [, namespace, pod] = match as unknown as [string, string, string]
    if (this.api.get('pods', namespace, pod) === undefined)
      return refuse(socket, 404, `pods "${pod}" not found`)
    this.#webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      this.sessions.push({
        namespace,
        pod,
        port,
        authorization: request.headers.authorization,
        protocol: webSocket.protocol,
      })
      this.#relay(webSocket, pod, port)
    })
  }

  #relay(webSocket: WebSocket, pod: string, port: number): void {
    const portHeader = Buffer.alloc(2)
    portHeader.writeUInt16LE(port)
    webSocket.send(Buffer.concat([Buffer.from([0]), portHeader]))
    webSocket.send(Buffer.concat([Buffer.from([1]), portHeader]))
    const local = this.podPorts(pod, port)
    if (local === undefined) {
      const message = `error forwarding port ${port} to pod ${pod}: connection refused`
      webSocket.send(Buffer.concat([Buffer.from([1]), Buffer.from(message)]), () => webSocket.close())
      return
    }
    const connection = net.connect(local, '127.0.0.1')
    connection.on('data', (chunk) => webSocket.send(Buffer.concat([Buffer.from([0]), chunk])))
    connection.on('close', () => webSocket.close())
    connection.on('error', () => webSocket.close())
    webSocket.on('message', (data: Buffer) => {
      if (data[0] === 0) connection.write(data.subarray(1))
    })
    webSocket.on('close', () => connection.end())
  }
}

function refuse(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify({kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code})
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
