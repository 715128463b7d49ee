import type {PhaseOutcome} from '../phase-runner.js'
import {renderChecked, withReleaseValues} from './release-values.js'
import {planOf, type UpRun} from './run.js'

/** `--dry-run`: what `helm template` renders for the plan, checked against the rules; nothing is deployed. */
export async function renderPlan(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const plan = planOf(run)
  report('rendering the chart (helm template) and checking the rules')
  run.result.manifests = await withReleaseValues(run, plan, (values) => renderChecked(run, values))
  return `Helm would ${plan.helm.action === 'skip' ? 'do nothing' : plan.helm.action}: ${plan.helm.reason}`
}
