import http from 'node:http'
import net from 'node:net'
import type {Duplex} from 'node:stream'

import type {WebSocket, WebSocketServer} from 'ws'

import type {FakeKubeApiServer} from './kube-api-server.js'
import {refuseUpgrade, UpgradeProxyServer} from './upgrade-proxy-server.js'

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
  #front: UpgradeProxyServer | undefined

  private constructor(
    private readonly api: FakeKubeApiServer,
    private readonly podPorts: PodPorts,
  ) {}

  static async start(api: FakeKubeApiServer, podPorts: PodPorts): Promise<PortForwardApiServer> {
    const instance = new PortForwardApiServer(api, podPorts)
    instance.#front = await UpgradeProxyServer.start(
      api,
      PORT_FORWARD_PROTOCOL,
      (request, socket, head, webSockets) => instance.#upgrade(request, socket, head, webSockets),
    )
    return instance
  }

  get url(): string {
    if (this.#front === undefined) throw new Error('not started')
    return this.#front.url
  }

  async stop(): Promise<void> {
    await this.#front?.stop()
  }

  #upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer, webSockets: WebSocketServer): void {
    const url = new URL(request.url ?? '/', 'http://fake')
    const match = PORT_FORWARD_PATH.exec(url.pathname)
    const port = Number(url.searchParams.get('ports'))
    if (match === null || !Number.isInteger(port) || port < 1)
      return refuseUpgrade(socket, 400, 'bad port-forward request')
    const [, namespace, pod] = match as unknown as [string, string, string]
    if (this.api.get('pods', namespace, pod) === undefined)
      return refuseUpgrade(socket, 404, `pods "${pod}" not found`)
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
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
