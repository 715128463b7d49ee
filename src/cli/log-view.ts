import pc from 'picocolors'

import type {ServiceName} from '../lib/config/schema.js'
import type {LogLineEvent, LogNoticeEvent} from '../lib/logs/log-multiplexer.js'

/** `logs --json`: one of these per line (README "logs --json"). */
export interface LogJsonLine {
  service: ServiceName
  pod: string
  container: string
  time: string | null
  line: string
}

export function logJsonLine(event: LogLineEvent): string {
  const json: LogJsonLine = {
    service: event.service,
    pod: event.pod,
    container: event.container,
    time: event.time,
    line: event.line,
  }
  return JSON.stringify(json)
}

/**
 * `todo-deploy-frontend-7d9f8c6b5-x2kq9` → `7d9f-x2kq9`: the ReplicaSet hash (enough of it to tell a
 * rollout's old pods from its new ones) and the pod's own suffix. Other names are kept whole.
 */
export function shortPodName(pod: string): string {
  const match = /-([a-z0-9]{6,10})-([a-z0-9]{5})$/.exec(pod)
  return match ? `${match[1]?.slice(0, 4)}-${match[2]}` : pod
}

export interface LogViewOptions {
  /** Colour per service (a terminal without NO_COLOR). */
  color: boolean
  /** Put the kubelet's timestamp before each line. */
  timestamps: boolean
  /** The services shown, to align the prefixes. */
  services: readonly ServiceName[]
  /** Each service's app container: another container's name is added to the prefix. */
  containers: Partial<Record<ServiceName, string>>
}

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function colorFor(stream: {isTTY?: boolean}, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR
}

const SERVICE_COLORS: Record<ServiceName, 'cyan' | 'magenta'> = {frontend: 'cyan', backend: 'magenta'}

/** Human lines: `frontend 7d9f-x2kq9 │ text`, the prefix coloured per service. */
export class LogView {
  readonly #options: LogViewOptions
  readonly #width: number
  readonly #paint: ReturnType<typeof pc.createColors>

  constructor(options: LogViewOptions) {
    this.#options = options
    this.#width = Math.max(0, ...options.services.map((service) => service.length))
    this.#paint = pc.createColors(options.color)
  }

  line(event: LogLineEvent): string {
    const time = this.#options.timestamps && event.time !== null ? `${this.#paint.dim(event.time)} ` : ''
    return `${this.#prefix(event.service, event.pod, event.container)} ${time}${event.line}`
  }

  /** Why a pod shows nothing (more): `frontend 7d9f-x2kq9 │ no logs yet: ContainerCreating`. */
  notice(event: LogNoticeEvent): string {
    const message = this.#paint.yellow(event.message)
    if (event.service === null) return message
    return `${this.#prefix(event.service, event.pod ?? '', event.container)} ${message}`
  }

  #prefix(service: ServiceName, pod: string, container: string | null): string {
    const paint = this.#paint[SERVICE_COLORS[service]]
    const own = container === null || container === this.#options.containers[service]
    const where = pod === '' ? '' : ` ${shortPodName(pod)}${own ? '' : `/${container}`}`
    return `${paint(`${service.padEnd(this.#width)}${where}`)} ${this.#paint.dim('│')}`
  }
}
