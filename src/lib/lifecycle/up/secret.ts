import {RELEASE_LABEL} from '../../kube/kube-client.js'
import type {PhaseOutcome} from '../phase-runner.js'
import {planOf, type UpRun} from './run.js'

/** Applies the Secret from the user's values; an unchanged Secret is left as it is. */
export async function applySecret(run: UpRun): Promise<PhaseOutcome> {
  const {secret, release} = planOf(run)
  const target = `${secret.namespace}/${secret.name}`
  const applied = await run.connection.secrets.applySecret({
    namespace: secret.namespace,
    name: secret.name,
    values: run.secrets,
    labels: {[RELEASE_LABEL]: release},
  })
  if (!applied.changed) return {skip: `${target} already holds these ${run.secrets.length} keys`}
  return `${run.secrets.length} keys written to ${target}`
}
