import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES} from '../config/schema.js'
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
 * (the cluster's own network), then the frontend URL from the cluster tool. Healthy only when every
 * answer is 2xx/3xx.
 */
export async function checkHealth(
  resolved: ResolvedConfig,
  connection: Connection,
  onLine: (line: string) => void,
): Promise<HealthReport> {
  const {config} = resolved
  const answers: HealthAnswer[] = []
  for (const name of SERVICE_NAMES) {
    const service = config.services[name]
    if (!service.enabled) continue
    const path = name === 'frontend' ? '/' : service.healthPath
    onLine(`GET ${path} on ${service.service.name}`)
    const answer = await connection.api.serviceProxyGet(
      config.namespace,
      service.service.name,
      service.service.port,
      path,
      HEALTH_TIMEOUT_MS,
    )
    answers.push({service: service.service.name, path, status: answer.status})
  }
  const report: HealthReport = {
    answers,
    unhealthy: answers.filter((answer) => answer.status < 200 || answer.status >= 400),
  }
  const frontend = config.services.frontend
  if (frontend.enabled) {
    onLine('finding the frontend URL')
    report.url = await connection.cluster.frontendUrl({
      service: frontend.service.name,
      namespace: config.namespace,
      nodePort: frontend.service.type === 'ClusterIP' ? undefined : (frontend.service.nodePort ?? undefined),
      ingressHost: config.ingress.enabled ? config.ingress.host : undefined,
    })
  }
  return report
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
): Promise<{report: HealthReport; warnings: string[]; summary: string}> {
  const report = await checkHealth(resolved, connection, onLine)
  recorder.set({url: report.url})
  recorder.setState(report.unhealthy.length === 0 ? 'Healthy' : 'Running')
  const warnings = report.unhealthy.map(
    (answer) => `GET ${answer.path} on ${answer.service} answered ${answer.status}`,
  )
  return {report, warnings, summary: describeHealth(report)}
}
