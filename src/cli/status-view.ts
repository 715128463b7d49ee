import Table from 'cli-table3'

import type {StatusReport} from '../lib/lifecycle/status.js'
import {formatDuration} from './phase-table.js'

/** The human view of `status`: release, state, deployments, pods (explained), services, last operation. */
export function renderStatus(report: StatusReport): string {
  if (!report.release) {
    if (report.lastOperation?.result === 'abandoned') return `not deployed: ${report.stateReason}`
    return `not deployed${report.lastOperation ? ` (last operation: ${report.lastOperation.command} ${report.lastOperation.result})` : ''}`
  }
  const release = report.release
  const lines = [
    `release    ${release.name} in ${release.namespace}: revision ${release.revision} ${release.status} (${release.description})`,
    `chart      ${release.chart} ${release.chartVersion}, app ${release.appVersion}, deployed ${release.deployedAt ?? 'never'}`,
    `state      ${report.state}: ${report.stateReason}`,
    '',
  ]
  const deployments = table(['deployment', 'desired', 'updated', 'ready', 'available', 'tag', 'rollout'])
  for (const d of report.deployments)
    deployments.push([d.name, d.desired, d.updated, d.ready, d.available, d.tags.join(','), d.condition])
  lines.push(deployments.toString(), '')
  const live = report.deployments.filter((d) => d.live !== undefined)
  for (const d of live) {
    const files = d.live?.files ?? 0
    lines.push(
      `live       ${d.name}: ${files} ${files === 1 ? 'file' : 'files'} synced since ${d.live?.since ?? ''} (by dev; \`todo-deploy up\` deploys them as an image)`,
    )
  }
  if (live.length > 0) lines.push('')
  const pods = table(['pod', 'phase', 'ready', 'restarts', 'age', 'state'])
  for (const p of report.pods)
    pods.push([p.name, p.phase, p.ready, p.restarts, formatDuration(p.ageSeconds * 1000), p.explanation])
  lines.push(report.pods.length > 0 ? pods.toString() : 'no pods', '')
  const services = table(['service', 'type', 'port', 'nodePort', 'url'])
  for (const s of report.services)
    services.push([s.name, s.type, `${s.port}→${s.targetPort}`, s.nodePort ?? '', s.url ?? ''])
  lines.push(services.toString())
  for (const ingress of report.ingresses) {
    const hosts = ingress.hosts.map((host) => `http://${host}`).join(', ') || '(any host)'
    lines.push(
      ingress.address === null
        ? `ingress    ${ingress.name}: ${hosts}, no address: no ingress controller serves it (\`minikube addons enable ingress\`)`
        : `ingress    ${ingress.name}: ${hosts} at ${ingress.address} (the host must resolve there: \`${ingress.address} ${ingress.hosts[0] ?? ''}\` in /etc/hosts)`,
    )
  }
  const operation = report.lastOperation
  if (operation) {
    const timings = operation.phases
      .map(
        (phase) =>
          `${phase.phase} ${phase.state}${phase.durationMs === undefined ? '' : ` ${formatDuration(phase.durationMs)}`}`,
      )
      .join(', ')
    lines.push(
      '',
      `last operation: ${operation.command} ${operation.result} at ${operation.startedAt}${operation.interruptedPhase ? ` (interrupted during ${operation.interruptedPhase})` : ''}`,
      `  ${timings}`,
    )
  }
  return lines.join('\n')
}

function table(head: string[]): Table.Table {
  return new Table({head, style: {head: [], border: []}})
}
