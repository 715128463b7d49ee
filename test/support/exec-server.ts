import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, symlinkSync} from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type {Duplex} from 'node:stream'

import type {WebSocket, WebSocketServer} from 'ws'

import which from 'which'

import type {FakeKubeApiServer} from './kube-api-server.js'
import {refuseUpgrade, UpgradeProxyServer} from './upgrade-proxy-server.js'

/** The subprotocol the exec API speaks over WebSocket before v5 (the rig's v1.24 offers no other). */
export const EXEC_PROTOCOL = 'v4.channel.k8s.io'

const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/

/** The tools of a container with a shell, tar and the coreutils a sync uses. */
export const CONTAINER_TOOLS = ['sh', 'tar', 'head', 'rm', 'id', 'cat', 'ls'] as const

/**
 * A container of the exec server: its `/` is a folder on this machine, its PATH a folder of links to
 * this machine's tools (leave `tar` out for an image without it).
 */
export interface ExecContainer {
  root: string
  bin: string
}

/** Makes a container: `root` for its files, a bin folder with the named tools of this machine. */
export function execContainer(root: string, tools: readonly string[] = CONTAINER_TOOLS): ExecContainer {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-exec-bin-'))
  // The commands may run as another user (see ExecApiServer): it must reach both folders.
  chmodSync(bin, 0o755)
  for (const tool of tools) symlinkSync(which.sync(tool), path.join(bin, tool))
  mkdirSync(root, {recursive: true})
  chmodSync(root, 0o755)
  return {root, bin}
}

export interface ExecSession {
  namespace: string
  pod: string
  container: string
  command: string[]
  protocol: string
  authorization: string | undefined
  stdinBytes: number
  /** Whether the command (all of its processes) has ended. */
  ended: boolean
}

/**
 * An API server front that speaks the exec protocol the way the API server and kubelet do: a WebSocket
 * upgrade of GET .../pods/<pod>/exec?command=...&container=...&stdin=true..., subprotocol
 * v4.channel.k8s.io; each binary frame starts with its channel byte (0 stdin, 1 stdout, 2 stderr, 3 the
 * final V1Status as JSON). The command runs for real on this machine, in the container's folder, with
 * its PATH; an argument that is exactly `/` (the container's root) is given as that folder. When the
 * tests run as root, commands run as `nobody`, so that permissions mean what they do for a container's
 * user. Every other request goes to the FakeKubeApiServer behind; an unknown pod is refused with 404.
 */
export class ExecApiServer {
  readonly sessions: ExecSession[] = []
  /** Refuse every exec upgrade with this status (a user without `pods/exec`: 403). */
  refusal: {code: number; message: string} | undefined
  /** Never answer an exec upgrade (an API server that hangs). */
  hangUpgrades = false
  readonly #containers = new Map<string, ExecContainer>()
  #front: UpgradeProxyServer | undefined

  private constructor(private readonly api: FakeKubeApiServer) {}

  static async start(api: FakeKubeApiServer): Promise<ExecApiServer> {
    const instance = new ExecApiServer(api)
    instance.#front = await UpgradeProxyServer.start(
      api,
      EXEC_PROTOCOL,
      (request, socket, head, webSockets) => instance.#upgrade(request, socket, head, webSockets),
    )
    return instance
  }

  get url(): string {
    if (this.#front === undefined) throw new Error('not started')
    return this.#front.url
  }

  /** The user commands run as: `nobody` when the tests run as root, else the tests' own. */
  static get runsAs(): {uid: number; gid: number} {
    const root = process.getuid?.() === 0
    return root ? {uid: 65534, gid: 65534} : {uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0}
  }

  /** Where a pod's container runs its commands. */
  setContainer(pod: string, container: string, value: ExecContainer): void {
    this.#containers.set(`${pod}/${container}`, value)
  }

  async stop(): Promise<void> {
    await this.#front?.stop()
  }

  #upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer, webSockets: WebSocketServer): void {
    const url = new URL(request.url ?? '/', 'http://fake')
    const match = EXEC_PATH.exec(url.pathname)
    const command = url.searchParams.getAll('command')
    const container = url.searchParams.get('container') ?? ''
    if (match === null || command.length === 0) return refuseUpgrade(socket, 400, 'bad exec request')
    const [, namespace, pod] = match as unknown as [string, string, string]
    if (this.hangUpgrades) return
    if (this.refusal !== undefined) return refuseUpgrade(socket, this.refusal.code, this.refusal.message)
    if (this.api.get('pods', namespace, pod) === undefined)
      return refuseUpgrade(socket, 404, `pods "${pod}" not found`)
    const target = this.#containers.get(`${pod}/${container}`)
    if (target === undefined)
      return refuseUpgrade(socket, 400, `container ${container} is not valid for pod ${pod}`)
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      const session: ExecSession = {
        namespace,
        pod,
        container,
        command,
        protocol: webSocket.protocol,
        authorization: request.headers.authorization,
        stdinBytes: 0,
        ended: false,
      }
      this.sessions.push(session)
      this.#run(webSocket, session, target, url.searchParams.get('stdin') === 'true')
    })
  }

  #run(webSocket: WebSocket, session: ExecSession, container: ExecContainer, stdin: boolean): void {
    const [file, ...args] = session.command.map((arg) => (arg === '/' ? container.root : arg)) as [
      string,
      ...string[],
    ]
    const child = spawn(file, args, {
      cwd: container.root,
      env: {PATH: container.bin},
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      // A group of its own, so that a closed session stops the whole pipeline (head, tar).
      detached: true,
      ...ExecApiServer.runsAs,
    })
    let finished = false
    const finish = (status: object): void => {
      if (finished) return
      finished = true
      session.ended = true
      send(3, JSON.stringify(status))
      webSocket.close()
    }
    const send = (channel: number, data: Buffer | string): void => {
      if (webSocket.readyState === webSocket.OPEN)
        webSocket.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]))
    }
    child.stdout?.on('data', (chunk: Buffer) => send(1, chunk))
    child.stderr?.on('data', (chunk: Buffer) => send(2, chunk))
    // The container's stdin closes only with the session (v4 cannot half-close).
    child.stdin?.on('error', () => undefined)
    webSocket.on('message', (data: Buffer) => {
      if (data[0] !== 0) return
      session.stdinBytes += data.length - 1
      child.stdin?.write(data.subarray(1))
    })
    webSocket.on('close', () => {
      child.stdin?.destroy()
      if (finished || child.pid === undefined) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    })
    child.on('error', (error: NodeJS.ErrnoException) => {
      // As the kubelet reports a command the container does not have.
      const message = `OCI runtime exec failed: exec failed: unable to start container process: exec: "${session.command[0]}": executable file not found in $PATH: unknown`
      finish({metadata: {}, status: 'Failure', message, reason: 'InternalError', code: error.errno})
    })
    child.on('close', (code) => {
      const status =
        code === 0
          ? {metadata: {}, status: 'Success'}
          : {
              metadata: {},
              status: 'Failure',
              message: `command terminated with non-zero exit code: error executing command [${session.command.join(' ')}], exit code ${code}`,
              reason: 'NonZeroExitCode',
              details: {causes: [{reason: 'ExitCode', message: String(code)}]},
            }
      finish(status)
    })
  }
}
