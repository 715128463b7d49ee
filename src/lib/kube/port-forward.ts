import http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import {Writable} from 'node:stream'

import {
  type KubeConfig,
  PortForward,
  type V1Pod,
  type V1Service,
  type V1ServicePort,
} from '@kubernetes/client-node'

import {DeployError, PrerequisiteError} from '../errors.js'
import type {KubeConnection} from '../kube/kube-connection.js'

export interface PortForwardOptions {
  /** Lists the Service and its pods. */
  connection: KubeConnection
  /** The kubeconfig the WebSocket connects with (the same context as `connection`). */
  kc: KubeConfig
  namespace: string
  service: string
  /** The Service port to reach; its first port by default. */
  servicePort?: number
  /** The local port on 127.0.0.1; a free one by default. */
  localPort?: number
  /** When `localPort` is taken, listen on a free port instead of failing. */
  anyPortIfTaken?: boolean
  /** Path of the verifying GET (default `/`); any answer below 500 counts as working. */
  verifyPath?: string
  verifyTimeoutMs?: number
  /** A connection that could not be forwarded (the forward goes on for the next ones). */
  onProblem?: (message: string) => void
}

/** The pod and container port that local connections reach. */
export interface ForwardTarget {
  pod: string
  port: number
}

const DEFAULT_VERIFY_TIMEOUT_MS = 10_000

/**
 * Forwards a local port on 127.0.0.1 to a Service of the cluster, like `kubectl port-forward svc/x`:
 * each local connection is one WebSocket port-forward (client-node's PortForward) to a Ready pod behind
 * the Service, on the Service's targetPort. The pod is looked up again when a connection to it fails
 * (it was replaced by a rollout or deleted) and after `refresh()`, so the URL outlives the pods.
 */
export class ServicePortForward {
  readonly #options: PortForwardOptions
  readonly #forward: PortForward
  readonly #server = net.createServer((socket) => void this.#accept(socket))
  readonly #open = new Set<{socket: net.Socket; close: () => void}>()
  #target: Promise<ForwardTarget> | undefined
  #current: ForwardTarget | undefined

  private constructor(options: PortForwardOptions) {
    this.#options = options
    // disconnectOnErr: a frame on an unknown channel ends that connection, as kubectl does.
    this.#forward = new PortForward(options.kc, true)
  }

  /**
   * Finds a Ready pod, listens on 127.0.0.1 and checks that an HTTP GET through the forward is
   * answered; fails (and listens no more) when there is no Ready pod or the app does not answer.
   */
  static async start(options: PortForwardOptions): Promise<ServicePortForward> {
    const forward = new ServicePortForward(options)
    try {
      await forward.#lookUp()
      await forward.#listen(options.localPort ?? 0).catch(async (error: unknown) => {
        if (!options.anyPortIfTaken || options.localPort === undefined) throw error
        await forward.#listen(0)
      })
      await forward.#verify()
    } catch (error) {
      await forward.close()
      throw error
    }
    return forward
  }

  get localPort(): number {
    return (this.#server.address() as AddressInfo).port
  }

  /** The local URL of the Service: `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.localPort}`
  }

  /** The pod and port the last connection went to. */
  get target(): ForwardTarget | undefined {
    return this.#current
  }

  /** Forgets the pod; the next connection looks up a Ready pod again (call it after a rollout). */
  refresh(): void {
    this.#target = undefined
  }

  async close(): Promise<void> {
    for (const connection of this.#open) connection.close()
    if (!this.#server.listening) return
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #lookUp(): Promise<ForwardTarget> {
    if (this.#target === undefined) {
      const lookup = findTarget(this.#options)
      this.#target = lookup
      // A failed lookup is not kept: the next connection tries again.
      lookup.then(
        (target) => (this.#current = target),
        () => {
          if (this.#target === lookup) this.#target = undefined
        },
      )
    }
    return this.#target
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject)
        resolve()
      })
    }).catch((error: NodeJS.ErrnoException) => {
      throw new PrerequisiteError(
        `cannot listen on 127.0.0.1:${port} for the port-forward: ${error.code ?? error.message}`,
        {
          where: `127.0.0.1:${port}`,
          fix: 'free that port or let todo-deploy pick one',
        },
      )
    })
  }

  async #accept(socket: net.Socket): Promise<void> {
    // A browser that gives up resets its connection: nothing to report.
    socket.on('error', () => {})
    // Stale pod: the upgrade is refused; look up the Service's pods once more and retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#connect(socket, await this.#lookUp())
        return
      } catch (error) {
        this.refresh()
        if (attempt === 2 || socket.destroyed) {
          this.#options.onProblem?.(
            `port-forward to service ${this.#options.service}: ${error instanceof Error ? error.message : String(error)}`,
          )
          socket.destroy()
          return
        }
      }
    }
  }

  async #connect(socket: net.Socket, target: ForwardTarget): Promise<void> {
    const problems: Buffer[] = []
    const errors = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        // The channel's first frame is only its port number: client-node passes it on empty.
        if (chunk.length > 0) problems.push(chunk)
        done()
      },
    })
    const webSocket = await this.#forward.portForward(
      this.#options.namespace,
      target.pod,
      [target.port],
      socket,
      errors,
      socket,
    )
    if (typeof webSocket === 'function') throw new Error('client-node returned a restartable forward')
    const entry = {socket, close: () => webSocket.close()}
    this.#open.add(entry)
    webSocket.on('close', () => {
      this.#open.delete(entry)
      if (problems.length > 0) {
        // The kubelet could not reach the port (container gone or restarting): find another pod next time.
        this.refresh()
        this.#options.onProblem?.(
          `port-forward to pod ${target.pod} port ${target.port}: ${Buffer.concat(problems).toString('utf8').trim()}`,
        )
        socket.destroy()
      } else {
        socket.end()
      }
    })
    socket.on('close', () => webSocket.close())
  }

  async #verify(): Promise<void> {
    const url = `${this.url}${this.#options.verifyPath ?? '/'}`
    const timeoutMs = this.#options.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.get(
        url,
        {agent: false, timeout: timeoutMs, headers: {connection: 'close'}},
        (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        },
      )
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
      request.on('error', reject)
    }).catch((error: Error) => {
      throw new DeployError(
        `the port-forward to service ${this.#options.service} does not answer: ${error.message}`,
        {
          where: `${url} → pod ${this.#current?.pod ?? '?'} port ${this.#current?.port ?? '?'}`,
          fix: `check the pod: todo-deploy status, todo-deploy logs`,
        },
      )
    })
    if (status >= 500)
      throw new DeployError(`the port-forward to service ${this.#options.service} answers HTTP ${status}`, {
        where: `${url} → pod ${this.#current?.pod ?? '?'}`,
        fix: 'check the app: todo-deploy logs',
      })
  }
}

/** The newest Ready pod behind the Service, and the container port its targetPort names. */
async function findTarget(options: PortForwardOptions): Promise<ForwardTarget> {
  const {connection, namespace, service: name} = options
  const service: V1Service = await connection.call({verb: 'get', resource: 'services', name, namespace}, () =>
    connection.core.readNamespacedService({name, namespace}),
  )
  const selector = service.spec?.selector ?? {}
  if (Object.keys(selector).length === 0)
    throw new DeployError(`service ${name} selects no pods (it has no selector)`, {
      where: `service/${name} in ${namespace}`,
      fix: 'give the Service a selector in the chart',
    })
  const ports = service.spec?.ports ?? []
  const servicePort =
    options.servicePort === undefined ? ports[0] : ports.find((port) => port.port === options.servicePort)
  if (servicePort === undefined)
    throw new DeployError(`service ${name} has no port ${options.servicePort ?? ''}`.trim(), {
      where: `service/${name} in ${namespace}`,
      fix: 'check the service ports in the chart',
    })
  const labelSelector = Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')
  const pods = await connection.call({verb: 'list', resource: 'pods', namespace}, () =>
    connection.core.listNamespacedPod({namespace, labelSelector}),
  )
  const ready = pods.items.filter((pod) => isReady(pod)).sort((a, b) => created(b) - created(a))
  const pod = ready[0]
  if (pod === undefined)
    throw new DeployError(`no Ready pod behind service ${name} to port-forward to`, {
      where: `service/${name} in ${namespace} (selector ${labelSelector})`,
      fix: 'see why the pods are not ready: todo-deploy status',
    })
  return {pod: pod.metadata?.name ?? '', port: containerPort(servicePort, pod, name)}
}

function isReady(pod: V1Pod): boolean {
  return (
    pod.metadata?.deletionTimestamp === undefined &&
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some(
      (condition) => condition.type === 'Ready' && condition.status === 'True',
    )
  )
}

function created(pod: V1Pod): number {
  const timestamp = pod.metadata?.creationTimestamp
  return timestamp === undefined ? 0 : new Date(timestamp).getTime()
}

/** A numeric targetPort is the port; a named one is looked up in the pod's containers (as the endpoints controller does). */
function containerPort(servicePort: V1ServicePort, pod: V1Pod, service: string): number {
  const target = servicePort.targetPort ?? servicePort.port
  if (typeof target === 'number') return target
  if (/^\d+$/.test(target)) return Number(target)
  for (const container of pod.spec?.containers ?? []) {
    const named = container.ports?.find((port) => port.name === target)
    if (named !== undefined) return named.containerPort
  }
  throw new DeployError(`pod ${pod.metadata?.name} has no container port named ${target}`, {
    where: `service/${service} targetPort ${target}`,
    fix: "name the container port like the Service's targetPort in the chart",
  })
}
