import type {ResolvedConfig} from '../config/load.js'
import type {AppForward} from '../kube/app-reach.js'
import {SERVICE_NAMES} from '../config/schema.js'
import {
  checkIngress,
  DEFAULT_INGRESS_CHECK,
  ingressWarning,
  type IngressCheckOptions,
} from './ingress-check.js'
import type {OperationRecorder} from './operation.js'
import type {Connection} from './ports.js'

const HEALTH_TIMEOUT_MS = 5000

export interface HealthAnswer {
  service: string
  path: string
  status: number
}

export interface HealthReport {
  answers: HealthAnswer[]
  unhealthy: HealthAnswer[]
  /** null: the cluster publishes no address this machine can use (only a port-forward reaches the app). */
  url?: string | null
}

/** How a user whose cluster publishes no address for the app reaches it (both forward it to 127.0.0.1). */
export const PORT_FORWARD_HINT = '`todo-deploy up --port-forward` or `todo-deploy dev`'

/**
 * One HTTP GET of the frontend `/` and the backend health path through the API server's service proxy
 * (the cluster's own network), and the frontend URL from the cluster tool, all at once. Healthy only
 * when every answer is 2xx/3xx.
 */
export async function checkHealth(
  resolved: ResolvedConfig,
  connection: Connection,
  onLine: (line: string) => void,
): Promise<HealthReport> {
  const {config} = resolved
  const probes = SERVICE_NAMES.filter((name) => config.services[name].enabled).map((name) => {
    const service = config.services[name]
    return {
      service: service.service.name,
      port: service.service.port,
      path: name === 'frontend' ? '/' : service.healthPath,
    }
  })
  onLine(probes.map((probe) => `GET ${probe.path} on ${probe.service}`).join(', '))
  const frontend = config.services.frontend
  const [answers, url] = await Promise.all([
    Promise.all(
      probes.map(async (probe): Promise<HealthAnswer> => {
        const answer = await connection.api.serviceProxyGet(
          config.namespace,
          probe.service,
          probe.port,
          probe.path,
          HEALTH_TIMEOUT_MS,
        )
        return {service: probe.service, path: probe.path, status: answer.status}
      }),
    ),
    frontend.enabled
      ? connection.cluster.frontendUrl({
          service: frontend.service.name,
          namespace: config.namespace,
          nodePort:
            frontend.service.type === 'ClusterIP' ? undefined : (frontend.service.nodePort ?? undefined),
          ingressHost: config.ingress.enabled ? config.ingress.host : undefined,
        })
      : Promise.resolve(undefined),
  ])
  return {answers, unhealthy: answers.filter((answer) => answer.status < 200 || answer.status >= 400), url}
}

export function describeHealth(report: HealthReport): string {
  if (report.unhealthy.length > 0) {
    return `running, but ${report.unhealthy.map((answer) => `${answer.service}${answer.path} answered ${answer.status}`).join(', ')}`
  }
  return report.answers.map((answer) => `${answer.service}${answer.path} ${answer.status}`).join(', ')
}

export interface VerifyOptions {
  ingress?: Partial<IngressCheckOptions>
  /**
   * `up --port-forward`: forward the frontend to 127.0.0.1 (this port when free, else any) and make
   * that the URL. The forward stays open: the caller closes it.
   */
  forwardFrom?: number
}

export interface VerifiedHealth {
  report: HealthReport
  warnings: string[]
  summary: string
  /** The open port-forward, with `forwardFrom`. */
  forward?: AppForward
}

/**
 * The last phase of `up` and `rollback`: the health GETs and the URL, recorded. Healthy when every
 * answer is good, else Running with a warning per bad answer. When the cluster publishes no address,
 * a short-lived port-forward checks that the app answers from this machine too.
 */
export async function verifyHealth(
  resolved: ResolvedConfig,
  connection: Connection,
  recorder: OperationRecorder,
  onLine: (line: string) => void,
  options: VerifyOptions = {},
): Promise<VerifiedHealth> {
  const report = await checkHealth(resolved, connection, onLine)
  const warnings = report.unhealthy.map(
    (answer) => `GET ${answer.path} on ${answer.service} answered ${answer.status}`,
  )
  const {config} = resolved
  if (config.ingress.enabled && config.services.frontend.enabled) {
    // The pods are healthy whatever the Ingress does: a URL nothing serves is a warning, with one that works.
    const outcome = await checkIngress(
      connection.api,
      {
        namespace: config.namespace,
        release: config.release,
        host: config.ingress.host,
        className: config.ingress.className,
      },
      {...DEFAULT_INGRESS_CHECK, ...options.ingress},
      onLine,
    )
    const fallback = await workingUrl(resolved, connection)
    const warning = ingressWarning(outcome, config.ingress.host, fallback.shown)
    if (warning !== undefined) {
      warnings.push(warning)
      report.url = fallback.url
    }
  }
  // Only an address the cluster publishes is recorded: a port-forward ends with this process.
  recorder.set({url: report.url ?? undefined})
  recorder.setState(report.unhealthy.length === 0 ? 'Healthy' : 'Running')
  let summary = describeHealth(report)
  if (!config.services.frontend.enabled) return {report, warnings, summary}
  const frontend = config.services.frontend.service.name
  if (options.forwardFrom !== undefined) {
    onLine(`port-forward to service ${frontend}`)
    const forward = await connection.reach.forward(config.namespace, frontend, {
      preferredLocalPort: options.forwardFrom,
    })
    report.url = forward.url
    return {report, warnings, summary: `${summary}; ${forward.url} forwards to service ${frontend}`, forward}
  }
  if (report.url === null) {
    onLine(`GET / through a port-forward to service ${frontend}`)
    try {
      await (await connection.reach.forward(config.namespace, frontend)).close()
      summary = `${summary}; answers through a port-forward`
    } catch (error) {
      warnings.push(
        `the app answers through the API server, but not through a port-forward from this machine: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  }
  return {report, warnings, summary}
}

/**
 * The frontend without the Ingress: its NodePort URL, else a port-forward to its Service; on a remote
 * cluster, its load balancer's address, else none (null: only a port-forward reaches it).
 */
async function workingUrl(
  resolved: ResolvedConfig,
  connection: Connection,
): Promise<{url: string | null; shown: string}> {
  const {config} = resolved
  const service = config.services.frontend.service
  if (connection.clusterKind === 'remote') {
    const url = await connection.cluster
      .frontendUrl({service: service.name, namespace: config.namespace})
      .catch(() => null)
    return url === null ? {url, shown: PORT_FORWARD_HINT} : {url, shown: url}
  }
  if (service.type !== 'ClusterIP') {
    const url = await connection.cluster
      .frontendUrl({
        service: service.name,
        namespace: config.namespace,
        nodePort: service.nodePort ?? undefined,
      })
      .catch(() => undefined)
    if (url !== undefined && url !== null) return {url, shown: url}
  }
  const forward = `kubectl -n ${config.namespace} port-forward svc/${service.name} ${PORT_FORWARD_LOCAL}:${service.port}`
  const url = `http://localhost:${PORT_FORWARD_LOCAL}`
  return {url, shown: `${url} after \`${forward}\``}
}

const PORT_FORWARD_LOCAL = 8080
