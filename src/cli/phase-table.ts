import Table from 'cli-table3'

import type {PhaseResult} from '../lib/lifecycle/operation.js'

/** The per-phase timing summary printed at the end of `up`, `rollback` and `down`. */
export function renderPhaseTable(phases: readonly PhaseResult[]): string {
  const table = new Table({
    head: ['phase', 'state', 'result', 'time', 'note'],
    style: {head: [], border: []},
    wordWrap: true,
    colWidths: [12, 12, 11, 8, 60],
  })
  for (const phase of phases) {
    table.push([
      phase.phase,
      phase.lifecycleState,
      phase.state,
      phase.durationMs === undefined ? '' : formatDuration(phase.durationMs),
      phase.skipReason ?? phase.detail ?? '',
    ])
  }
  const total = phases.reduce((sum, phase) => sum + (phase.durationMs ?? 0), 0)
  return `${table.toString()}\ntotal ${formatDuration(total)}`
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
}
