import Table from 'cli-table3'

import type {DownResult} from '../lib/lifecycle/down.js'
import {PORT_FORWARD_HINT} from '../lib/lifecycle/health-check.js'
import type {PhaseResult} from '../lib/lifecycle/operation.js'
import type {RevisionRow, RollbackResult} from '../lib/lifecycle/rollback.js'
import type {Decision, UpPlan} from '../lib/lifecycle/up/plan.js'
import type {UpResult} from '../lib/lifecycle/up.js'
import {renderPhaseTable} from './phase-table.js'

/**
 * The human rendering of each operation's result (Salesforce CLI: the result formatter). `--json`
 * prints the result itself; these are what a terminal shows after the phases ran.
 */

/**
 * The end of every operation: the phase table, the warnings, a state line and the URL last; when the
 * cluster publishes no address (url null), how to reach the app instead.
 */
function renderOutcome(
  phases: readonly PhaseResult[],
  warnings: readonly string[],
  summary: string,
  url?: string | null,
  forwarding = false,
): string {
  return [
    '',
    renderPhaseTable(phases),
    ...warnings.map((warning) => `warning: ${warning}`),
    summary,
    ...(url === null
      ? [`the cluster publishes no address for the app: reach it on 127.0.0.1 with ${PORT_FORWARD_HINT}`]
      : []),
    ...(forwarding ? ['forwarding to the frontend until Ctrl-C (the app stays deployed):'] : []),
    ...(url ? [url] : []),
  ].join('\n')
}

export function renderUpResult(result: UpResult): string {
  if (result.dryRun) return renderUpPlan(result)
  return renderOutcome(
    result.phases,
    result.warnings,
    `${result.release} in ${result.namespace}: ${result.state}${result.helm.revision ? `, revision ${result.helm.revision}` : ''}`,
    result.url,
    result.forwarding,
  )
}

function decision(what: Decision<string>, yes: string): string {
  return `${what.action === yes ? 'yes' : 'no'}, ${what.reason}`
}

/** `up --dry-run`: the plan, each decision with its reason, then the manifests helm template rendered. */
export function renderUpPlan(result: UpResult): string {
  const plan = result.plan as UpPlan
  const lines = ['', 'Plan (nothing was changed):']
  for (const service of plan.services) {
    lines.push(
      `  ${service.service}: ${service.ref}`,
      `    build: ${decision(service.build, 'build')}`,
      `    load: ${decision(service.load, 'load')}`,
      `    push: ${decision(service.push, 'push')}`,
    )
  }
  lines.push(
    `  images reach the cluster by: ${plan.imageLoad}`,
    `  Secret ${plan.secret.namespace}/${plan.secret.name}: ${plan.secret.keys.length} keys (${plan.secret.keys.join(', ')})`,
    `  values digest: ${plan.values.digest}`,
    `  helm: ${plan.helm.action}, ${plan.helm.reason}`,
    ...(plan.helm.action !== 'skip' && plan.helm.recover ? [`    first: ${plan.helm.recover.reason}`] : []),
    `  if the rollout fails: ${plan.onFailure.action === 'rollback' ? `roll back to revision ${plan.onFailure.revision}` : plan.onFailure.action === 'uninstall' ? 'uninstall it' : 'keep it'}, ${plan.onFailure.reason}`,
    ...result.warnings.map((warning) => `warning: ${warning}`),
    '',
    `Rendered manifests (helm template):\n${result.manifests ?? ''}`,
  )
  return lines.join('\n')
}

export function renderRollbackResult(result: RollbackResult): string {
  return renderOutcome(
    result.phases,
    result.warnings,
    `${result.release} in ${result.namespace}: ${result.state}, revision ${result.revision ?? '?'} (rollback to ${result.toRevision})`,
    result.url,
  )
}

export function renderDownResult(result: DownResult): string {
  if (!result.uninstalled && result.state === 'NotDeployed')
    return `release ${result.release} is not deployed in ${result.namespace}: nothing to uninstall`
  return `\n${renderPhaseTable(result.phases)}\n${result.release} removed from ${result.namespace}`
}

/** `rollback --list`: every revision with its status and the image tags it deploys. */
export function renderHistory(release: string, namespace: string, rows: RevisionRow[]): string {
  if (rows.length === 0) return `release ${release} has no history in ${namespace}`
  const table = new Table({
    head: ['revision', 'status', 'updated', 'frontend', 'backend', 'description'],
    style: {head: [], border: []},
  })
  for (const row of rows)
    table.push([
      row.revision,
      row.status,
      row.updated,
      row.tags.frontend ?? '',
      row.tags.backend ?? '',
      row.description,
    ])
  return table.toString()
}
