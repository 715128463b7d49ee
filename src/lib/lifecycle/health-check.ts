import type {ResolvedConfig} from '../config/load.js'
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
  url?: string
}

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

/**
 * The last phase of `up` and `rollback`: the health GETs and the URL, recorded. Healthy when every
 * answer is good, else Running with a warning per bad answer.
 */
export async function verifyHealth(
  resolved: ResolvedConfig,
  connection: Connection,
  recorder: OperationRecorder,
  onLine: (line: string) => void,
  ingressOptions: Partial<IngressCheckOptions> = {},
): Promise<{report: HealthReport; warnings: string[]; summary: string}> {
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
      {...DEFAULT_INGRESS_CHECK, ...ingressOptions},
      onLine,
    )
    const fallback = await workingUrl(resolved, connection)
    const warning = ingressWarning(outcome, config.ingress.host, fallback.shown)
    if (warning !== undefined) {
      warnings.push(warning)
      report.url = fallback.url
    }
  }
  recorder.set({url: report.url})
  recorder.setState(report.unhealthy.length === 0 ? 'Healthy' : 'Running')
  return {report, warnings, summary: describeHealth(report)}
}

/** The frontend without the Ingress: its NodePort URL, else a port-forward to its Service. */
async function workingUrl(
  resolved: ResolvedConfig,
  connection: Connection,
): Promise<{url: string; shown: string}> {
  const {config} = resolved
  const service = config.services.frontend.service
  if (service.type !== 'ClusterIP') {
    const url = await connection.cluster
      .frontendUrl({
        service: service.name,
        namespace: config.namespace,
        nodePort: service.nodePort ?? undefined,
      })
      .catch(() => undefined)
    if (url !== undefined) return {url, shown: url}
  }
  const forward = `kubectl -n ${config.namespace} port-forward svc/${service.name} ${PORT_FORWARD_LOCAL}:${service.port}`
  const url = `http://localhost:${PORT_FORWARD_LOCAL}`
  return {url, shown: `${url} after \`${forward}\``}
}

const PORT_FORWARD_LOCAL = 8080
