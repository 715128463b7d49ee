import {readFileSync, existsSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {KubeConfig} from '@kubernetes/client-node'

import {KubeConnection} from '../../src/lib/kube/kube-connection.js'

/**
 * A small Kubernetes API server that replays a watch recording (test/fixtures/k8s/<scenario>) over real HTTP,
 * so the real client-node code paths (list, watch streaming, reconnects, error bodies) run in tests.
 *
 * Resource versions are rewritten to the event's position in the merged recording: the four recorded streams
 * arrived interleaved, and a position is the only version that is consistent across all of them.
 */

/** `services` are never in a recording: a test gives them with ReplayOptions.services (the chart's are static). */
export type ReplayResource = 'deployments' | 'replicasets' | 'pods' | 'events' | 'services' | 'endpointslices'

export interface KubeObject {
  kind?: string
  apiVersion?: string
  metadata: {name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>}
  [field: string]: unknown
}

export interface RecordedEvent {
  t: number
  resource: ReplayResource
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'
  object: KubeObject
}

interface RecordedError {
  httpStatus: number
  body: unknown
}

export interface RecordedLog {
  current: string | null
  previous: string | null
  currentError?: RecordedError
  previousError?: RecordedError
  currentHttpStatus?: number
  previousHttpStatus?: number
}

export interface ReplayScenario {
  name: string
  namespace: string
  events: RecordedEvent[]
  logs: Record<string, RecordedLog>
  /** Logs as they were at each container-state change (crash-loop only): served by the clock when present. */
  logsTimeline?: Array<{t: number; logs: Record<string, RecordedLog>}>
}

const FIXTURES = fileURLToPath(new URL('../fixtures/k8s/', import.meta.url))

export function loadScenario(name: string): ReplayScenario {
  const dir = `${FIXTURES}${name}/`
  const events = readFileSync(`${dir}events.jsonl`, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RecordedEvent)
  const namespace = events.find((e) => e.object.metadata.namespace)?.object.metadata.namespace
  if (namespace === undefined) throw new Error(`scenario ${name}: no namespaced object in events.jsonl`)
  const logs = JSON.parse(readFileSync(`${dir}logs.json`, 'utf8')) as Record<string, RecordedLog>
  const timelineFile = `${dir}logs-timeline.json`
  const logsTimeline = existsSync(timelineFile)
    ? (JSON.parse(readFileSync(timelineFile, 'utf8')) as Array<{
        t: number
        logs: Record<string, RecordedLog>
      }>)
    : undefined
  return {name, namespace, events, logs, logsTimeline}
}

export interface ReplayOptions {
  /** Scenario milliseconds per real millisecond (20 plays a 90 s recording in 4.5 s). */
  speed?: number
  /** Scenario time the clock starts at; events before it are already applied. */
  startAt?: number
  /** The clock stops at this scenario time ("play until t=X"). */
  until?: number
  /** The clock waits for the first request (default), so the client sees the scenario from startAt. */
  startOnFirstRequest?: boolean
  /** How a watch from an expired resourceVersion is answered: the API server's ERROR event (default) or HTTP 410. */
  expiredWatch?: 'error-event' | 'http-410'
  /** Services that exist from the start in the scenario's namespace (listed and watched; they never change). */
  services?: KubeObject[]
  /**
   * Serve container logs like the kubelet instead of the recorded texts: every container instance (a
   * containerID in the recorded pod status) has its own log, stamped with the wall clock, filtered by
   * tailLines/sinceSeconds/sinceTime, prefixed with `timestamps=true`, and streamed with `follow=true`
   * until the instance stops running (the recording says so) or `cutLogStreams` cuts it. `lines` is what
   * each instance writes as soon as it appears; `writeLog` adds more.
   */
  liveLogs?: {lines: (pod: string, container: string, instance: number) => string[]}
}

/** How the API answers for a container instance whose log the kubelet has removed. */
export type GoneLogAnswer = 'http-200' | 'http-400'

interface LiveInstance {
  id: string
  lines: Array<{key: bigint; time: string; text: string}>
  gone?: GoneLogAnswer
}

interface LogFollower {
  pod: string
  container: string
  instance: string
  response: ServerResponse
}

export interface DropOptions {
  /** New watch requests get 503 until this much scenario time has passed after the drop. */
  refuseWatchesForMs?: number
  /** When the refusal ends, versions from before it are compacted: resuming from them answers 410 Gone. */
  expireHistory?: boolean
}

interface OpenWatch {
  resource: ReplayResource
  namespace: string
  selector: LabelRequirement[]
  bookmarks: boolean
  response: ServerResponse
}

export interface ReplayRequest {
  method: string
  path: string
  query: Record<string, string>
}

const LIST_KINDS: Record<ReplayResource, {kind: string; apiVersion: string}> = {
  deployments: {kind: 'DeploymentList', apiVersion: 'apps/v1'},
  replicasets: {kind: 'ReplicaSetList', apiVersion: 'apps/v1'},
  pods: {kind: 'PodList', apiVersion: 'v1'},
  events: {kind: 'EventList', apiVersion: 'v1'},
  services: {kind: 'ServiceList', apiVersion: 'v1'},
  endpointslices: {kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1'},
}

const RV_BASE = 1000

export class ReplayApiServer {
  readonly requests: ReplayRequest[] = []
  private readonly events: RecordedEvent[]
  private readonly state: Record<ReplayResource, Map<string, KubeObject>> = {
    deployments: new Map(),
    replicasets: new Map(),
    pods: new Map(),
    events: new Map(),
    services: new Map(),
    endpointslices: new Map(),
  }
  private delivered = 0
  private compactedRv = 0
  private refuseUntil = -1
  private pendingCompaction = false
  private readonly drops: Array<{at: number; options: DropOptions}> = []
  private readonly watches = new Set<OpenWatch>()
  private readonly liveLogs = new Map<string, LiveInstance[]>()
  private readonly followers = new Set<LogFollower>()
  private lastLogKey = 0n
  private readonly waiters: Array<{t: number; resolve: () => void}> = []
  private clockBase: number
  private realBase = performance.now()
  private speed: number
  private until: number
  private readonly ticker: NodeJS.Timeout
  private waitingForClient: boolean
  private readonly port: number

  private constructor(
    readonly scenario: ReplayScenario,
    private readonly server: Server,
    private readonly options: ReplayOptions,
  ) {
    this.events = scenario.events.map((event, index) => ({
      ...event,
      object: {
        ...event.object,
        metadata: {...event.object.metadata, resourceVersion: String(RV_BASE + index + 1)},
      },
    }))
    for (const service of options.services ?? []) {
      const metadata = {
        ...service.metadata,
        namespace: service.metadata.namespace ?? scenario.namespace,
        resourceVersion: String(RV_BASE),
      }
      this.state.services.set(metadata.name ?? '', {...service, metadata})
    }
    this.clockBase = options.startAt ?? 0
    this.speed = options.speed ?? 20
    this.until = options.until ?? Number.POSITIVE_INFINITY
    this.waitingForClient = options.startOnFirstRequest ?? true
    this.port = (server.address() as AddressInfo).port
    this.ticker = setInterval(() => this.tick(), 5)
    this.tick()
  }

  static async start(
    scenario: ReplayScenario | string,
    options: ReplayOptions = {},
  ): Promise<ReplayApiServer> {
    const loaded = typeof scenario === 'string' ? loadScenario(scenario) : scenario
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const replay = new ReplayApiServer(loaded, server, options)
    server.on('request', (request, response) => replay.handle(request, response))
    return replay
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get namespace(): string {
    return this.scenario.namespace
  }

  /** Current scenario time in ms. */
  now(): number {
    if (this.waitingForClient) return this.clockBase
    return Math.min(this.until, this.clockBase + (performance.now() - this.realBase) * this.speed)
  }

  /** Watch connections open now (a client that stopped watching has closed its own). */
  openWatches(): number {
    return this.watches.size
  }

  /** Moves the stop point of the clock (Infinity: play to the end). */
  playUntil(t: number): void {
    this.rebase()
    this.until = t
  }

  /** Resolves once the scenario clock has reached t. */
  async reached(t: number): Promise<void> {
    if (this.now() >= t) return
    await new Promise<void>((resolve) => this.waiters.push({t, resolve}))
  }

  /** Ends every open watch connection when the clock reaches t (the client sees the stream close). */
  dropWatchesAt(t: number, options: DropOptions = {}): void {
    this.drops.push({at: t, options})
  }

  async close(): Promise<void> {
    clearInterval(this.ticker)
    for (const watch of this.watches) watch.response.destroy()
    this.watches.clear()
    for (const follower of this.followers) follower.response.destroy()
    this.followers.clear()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Appends a line to the log of the container's current instance (liveLogs); followers get it at once. */
  writeLog(pod: string, container: string, text: string): void {
    const instance = this.liveLogs.get(`${pod}/${container}`)?.at(-1)
    if (instance === undefined) throw new Error(`${pod}/${container} has no container instance yet`)
    this.append(pod, container, instance, text)
  }

  /** Cuts every open follow stream (as a restarting API server or a proxy timeout would); containers keep running. */
  cutLogStreams(): void {
    for (const follower of this.followers) follower.response.destroy()
    this.followers.clear()
  }

  /** The kubelet no longer has this instance's log (0: the container's first instance). */
  removeLog(pod: string, container: string, instance: number, answer: GoneLogAnswer): void {
    const found = this.liveLogs.get(`${pod}/${container}`)?.[instance]
    if (found === undefined) throw new Error(`${pod}/${container} has no instance ${instance}`)
    found.gone = answer
  }

  /** The IDs of a container's instances so far, oldest first. */
  instances(pod: string, container: string): string[] {
    return (this.liveLogs.get(`${pod}/${container}`) ?? []).map((instance) => instance.id)
  }

  private append(pod: string, container: string, instance: LiveInstance, text: string): void {
    const now = BigInt(Date.now()) * 1_000_000n
    this.lastLogKey = now > this.lastLogKey ? now : this.lastLogKey + 1n
    const key = this.lastLogKey
    const time = `${new Date(Number(key / 1_000_000n)).toISOString().slice(0, 19)}.${String(key % 1_000_000_000n).padStart(9, '0')}Z`
    instance.lines.push({key, time, text})
    for (const follower of this.followers) {
      if (follower.pod === pod && follower.container === container && follower.instance === instance.id)
        follower.response.write(`${time} ${text}\n`)
    }
  }

  /** Keeps the live logs in step with a pod event: new instances start their log, stopped ones end their streams. */
  private trackInstances(event: RecordedEvent): void {
    if (this.options.liveLogs === undefined || event.resource !== 'pods') return
    const pod = event.object.metadata.name ?? ''
    const statuses = containerStatusesOf(event.object)
    for (const status of statuses) {
      const key = `${pod}/${status.name}`
      const instances = this.liveLogs.get(key) ?? []
      this.liveLogs.set(key, instances)
      if (status.containerID && !instances.some((instance) => instance.id === status.containerID)) {
        const instance: LiveInstance = {id: status.containerID, lines: []}
        instances.push(instance)
        for (const text of this.options.liveLogs.lines(pod, status.name, instances.length - 1))
          this.append(pod, status.name, instance, text)
      }
    }
    for (const follower of [...this.followers]) {
      if (follower.pod !== pod) continue
      const status = statuses.find((each) => each.name === follower.container)
      const running = status?.state?.running !== undefined && status.containerID === follower.instance
      if (event.type === 'DELETED' || !running) {
        follower.response.end()
        this.followers.delete(follower)
      }
    }
  }

  private rebase(): void {
    this.clockBase = this.now()
    this.realBase = performance.now()
  }

  private currentRv(): number {
    return RV_BASE + this.delivered
  }

  private tick(): void {
    const now = this.now()
    for (const drop of this.drops.filter((d) => d.at <= now)) {
      this.drops.splice(this.drops.indexOf(drop), 1)
      for (const watch of this.watches) watch.response.end()
      this.watches.clear()
      this.refuseUntil = drop.at + (drop.options.refuseWatchesForMs ?? 0)
      this.pendingCompaction = drop.options.expireHistory === true
    }
    while (this.delivered < this.events.length && this.events[this.delivered]!.t <= now) {
      const event = this.events[this.delivered]!
      this.delivered += 1
      this.apply(event)
      this.trackInstances(event)
      for (const watch of this.watches) {
        if (this.visible(event, watch))
          watch.response.write(`${JSON.stringify({type: event.type, object: event.object})}\n`)
      }
    }
    if (this.pendingCompaction && now >= this.refuseUntil) {
      this.pendingCompaction = false
      this.compactedRv = this.currentRv()
    }
    for (const waiter of this.waiters.filter((w) => w.t <= now)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }

  private apply(event: RecordedEvent): void {
    const name = event.object.metadata.name
    if (event.type === 'BOOKMARK' || name === undefined) return
    if (event.type === 'DELETED') this.state[event.resource].delete(name)
    else this.state[event.resource].set(name, event.object)
  }

  private visible(event: RecordedEvent, watch: OpenWatch): boolean {
    if (event.resource !== watch.resource) return false
    if (event.type === 'BOOKMARK') return watch.bookmarks
    return event.object.metadata.namespace === watch.namespace && matches(watch.selector, event.object)
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    if (this.waitingForClient) {
      this.waitingForClient = false
      this.realBase = performance.now()
    }
    this.tick()
    const url = new URL(request.url ?? '/', 'http://replay')
    const query = Object.fromEntries(url.searchParams)
    this.requests.push({method: request.method ?? 'GET', path: url.pathname, query})
    const route =
      /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|replicasets)(?:\/([^/]+))?$/.exec(url.pathname) ??
      /^\/api\/v1\/namespaces\/([^/]+)\/(pods|events|services)(?:\/([^/]+)(\/log)?)?$/.exec(url.pathname) ??
      /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/(endpointslices)$/.exec(url.pathname)
    if (request.method !== 'GET' || route === null) {
      sendStatus(
        response,
        404,
        'NotFound',
        `the server could not find the requested resource (${url.pathname})`,
      )
      return
    }
    const [, namespace = '', resource, name, log] = route as unknown as [
      string,
      string,
      ReplayResource,
      string?,
      string?,
    ]
    if (log !== undefined && name !== undefined) this.serveLog(response, namespace, name, query)
    else if (name !== undefined) this.serveObject(response, namespace, resource, name)
    else if (query.watch === 'true' || query.watch === '1')
      this.serveWatch(response, namespace, resource, query)
    else this.serveList(response, namespace, resource, query)
  }

  private serveList(
    response: ServerResponse,
    namespace: string,
    resource: ReplayResource,
    query: Record<string, string>,
  ): void {
    const selector = parseSelector(query.labelSelector ?? '')
    const items = [...this.state[resource].values()].filter(
      (object) => object.metadata.namespace === namespace && matches(selector, object),
    )
    sendJson(response, 200, {
      ...LIST_KINDS[resource],
      metadata: {resourceVersion: String(this.currentRv())},
      items,
    })
  }

  private serveObject(
    response: ServerResponse,
    namespace: string,
    resource: ReplayResource,
    name: string,
  ): void {
    const object = this.state[resource].get(name)
    if (object === undefined || object.metadata.namespace !== namespace) {
      sendStatus(response, 404, 'NotFound', `${resource} "${name}" not found`)
      return
    }
    sendJson(response, 200, object)
  }

  private serveWatch(
    response: ServerResponse,
    namespace: string,
    resource: ReplayResource,
    query: Record<string, string>,
  ): void {
    if (this.now() < this.refuseUntil) {
      sendStatus(response, 503, 'ServiceUnavailable', 'the API server is restarting')
      return
    }
    const from =
      query.resourceVersion === undefined || query.resourceVersion === '0'
        ? undefined
        : Number(query.resourceVersion)
    if (from !== undefined && from < this.compactedRv) {
      const message = `too old resource version: ${from} (${this.compactedRv})`
      if (this.options.expiredWatch === 'http-410') {
        sendStatus(response, 410, 'Expired', message)
        return
      }
      response.writeHead(200, {'content-type': 'application/json'})
      response.end(
        `${JSON.stringify({type: 'ERROR', object: {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410}})}\n`,
      )
      return
    }
    const watch: OpenWatch = {
      resource,
      namespace,
      selector: parseSelector(query.labelSelector ?? ''),
      bookmarks: query.allowWatchBookmarks === 'true',
      response,
    }
    response.writeHead(200, {'content-type': 'application/json', 'transfer-encoding': 'chunked'})
    response.flushHeaders()
    if (from === undefined) {
      // Like the API server: a watch without a version starts with the current objects as ADDED.
      for (const object of this.state[resource].values()) {
        if (object.metadata.namespace === namespace && matches(watch.selector, object)) {
          response.write(`${JSON.stringify({type: 'ADDED', object})}\n`)
        }
      }
    } else {
      for (const event of this.events.slice(from - RV_BASE, this.delivered)) {
        if (this.visible(event, watch))
          response.write(`${JSON.stringify({type: event.type, object: event.object})}\n`)
      }
    }
    this.watches.add(watch)
    response.on('close', () => this.watches.delete(watch))
  }

  private serveLog(
    response: ServerResponse,
    namespace: string,
    pod: string,
    query: Record<string, string>,
  ): void {
    if (namespace !== this.namespace || !this.state.pods.has(pod)) {
      sendStatus(response, 404, 'NotFound', `pods "${pod}" not found`)
      return
    }
    if (this.options.liveLogs !== undefined) {
      this.serveLiveLog(response, pod, query)
      return
    }
    const logs = this.logsNow()
    const container =
      query.container ??
      Object.keys(logs)
        .find((key) => key.startsWith(`${pod}/`))
        ?.split('/')[1]
    const entry = logs[`${pod}/${container ?? ''}`]
    if (entry === undefined) {
      sendStatus(response, 400, 'BadRequest', `container ${container ?? ''} is not valid for pod ${pod}`)
      return
    }
    const previous = query.previous === 'true'
    const error = previous ? entry.previousError : entry.currentError
    if (error !== undefined) {
      sendJson(response, error.httpStatus, error.body)
      return
    }
    const status = (previous ? entry.previousHttpStatus : entry.currentHttpStatus) ?? 200
    if (status === 204) {
      response.writeHead(204)
      response.end()
      return
    }
    let text = (previous ? entry.previous : entry.current) ?? ''
    const tail = query.tailLines === undefined ? undefined : Number(query.tailLines)
    if (tail !== undefined) {
      const lines = text.split('\n')
      if (lines.at(-1) === '') lines.pop()
      text = lines
        .slice(-tail)
        .map((line) => `${line}\n`)
        .join('')
    }
    response.writeHead(status, {'content-type': 'text/plain'})
    response.end(text)
  }

  /** The kubelet's answers (as recorded on a real cluster) for a container instance's log. */
  private serveLiveLog(response: ServerResponse, pod: string, query: Record<string, string>): void {
    const object = this.state.pods.get(pod)
    const statuses = object === undefined ? [] : containerStatusesOf(object)
    const container = query.container ?? statuses[0]?.name ?? ''
    const status = statuses.find((each) => each.name === container)
    if (status === undefined) {
      sendStatus(response, 400, 'BadRequest', `container ${container} is not valid for pod ${pod}`)
      return
    }
    const previous = query.previous === 'true'
    const id = previous ? status.lastState?.terminated?.containerID : status.containerID
    const instance = this.liveLogs.get(`${pod}/${container}`)?.find((each) => each.id === id)
    if (instance === undefined) {
      const message = previous
        ? `previous terminated container "${container}" in pod "${pod}" not found`
        : `container "${container}" in pod "${pod}" is waiting to start: ${status.state?.waiting?.reason ?? 'ContainerCreating'}`
      sendStatus(response, 400, 'BadRequest', message)
      return
    }
    if (instance.gone !== undefined) {
      const text = `unable to retrieve container logs for ${instance.id}`
      if (instance.gone === 'http-400') sendStatus(response, 400, 'BadRequest', text)
      else {
        response.writeHead(200, {'content-type': 'text/plain'})
        response.end(text)
      }
      return
    }
    let lines = instance.lines
    if (query.tailLines !== undefined) lines = lines.slice(-Number(query.tailLines))
    const since =
      query.sinceTime !== undefined
        ? BigInt(Date.parse(query.sinceTime)) * 1_000_000n
        : query.sinceSeconds !== undefined
          ? BigInt(Date.now() - Number(query.sinceSeconds) * 1000) * 1_000_000n
          : undefined
    if (since !== undefined) lines = lines.filter((line) => line.key >= since)
    const stamp = query.timestamps === 'true'
    response.writeHead(200, {'content-type': 'text/plain', 'transfer-encoding': 'chunked'})
    for (const line of lines) response.write(`${stamp ? `${line.time} ` : ''}${line.text}\n`)
    const running = status.state?.running !== undefined && status.containerID === instance.id
    if (query.follow !== 'true' || previous || !running) {
      response.end()
      return
    }
    response.flushHeaders()
    const follower: LogFollower = {pod, container, instance: instance.id, response}
    this.followers.add(follower)
    response.on('close', () => this.followers.delete(follower))
  }

  private logsNow(): Record<string, RecordedLog> {
    const now = this.now()
    const timeline = this.scenario.logsTimeline?.filter((entry) => entry.t <= now)
    return timeline?.at(-1)?.logs ?? this.scenario.logs
  }
}

interface ContainerStatusShape {
  name: string
  containerID?: string
  state?: {running?: unknown; waiting?: {reason?: string}; terminated?: unknown}
  lastState?: {terminated?: {containerID?: string}}
}

function containerStatusesOf(pod: KubeObject): ContainerStatusShape[] {
  return (pod.status as {containerStatuses?: ContainerStatusShape[]} | undefined)?.containerStatuses ?? []
}

/** A client-node KubeConfig whose current context points at the replay server. */
export function kubeConfigFor(server: {url: string}): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'replay', server: server.url, skipTLSVerify: true}],
    users: [{name: 'replay'}],
    contexts: [{name: 'replay', cluster: 'replay', user: 'replay'}],
    currentContext: 'replay',
  })
  return kc
}

/** The production connection (deadlines, error wording, watch) to the replay server. */
export function connectionFor(server: {url: string}, options: {timeoutMs?: number} = {}): KubeConnection {
  return new KubeConnection({kc: kubeConfigFor(server), context: 'replay', server: server.url}, options)
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {'content-type': 'application/json'})
  response.end(JSON.stringify(body))
}

function sendStatus(response: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(response, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  })
}

type LabelRequirement =
  {key: string; op: 'in' | 'notin'; values: string[]} | {key: string; op: 'exists' | 'absent'}

/** Parses the label selector syntax the API server accepts (=, ==, !=, in, notin, key, !key). */
function parseSelector(selector: string): LabelRequirement[] {
  const parts = selector.match(/[^,(]+(\([^)]*\))?/g) ?? []
  return parts
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part): LabelRequirement => {
      const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part)
      if (set)
        return {key: set[1]!, op: set[2] as 'in' | 'notin', values: set[3]!.split(',').map((v) => v.trim())}
      const inequality = /^([^!=]+)!=(.*)$/.exec(part)
      if (inequality) return {key: inequality[1]!.trim(), op: 'notin', values: [inequality[2]!.trim()]}
      const equality = /^([^!=]+)==?(.*)$/.exec(part)
      if (equality) return {key: equality[1]!.trim(), op: 'in', values: [equality[2]!.trim()]}
      if (part.startsWith('!')) return {key: part.slice(1).trim(), op: 'absent'}
      return {key: part, op: 'exists'}
    })
}

function matches(selector: LabelRequirement[], object: KubeObject): boolean {
  const labels = object.metadata.labels ?? {}
  return selector.every((requirement) => {
    const value = labels[requirement.key]
    switch (requirement.op) {
      case 'exists':
        return value !== undefined
      case 'absent':
        return value === undefined
      case 'in':
        return value !== undefined && requirement.values.includes(value)
      case 'notin':
        return value === undefined || !requirement.values.includes(value)
    }
  })
}
