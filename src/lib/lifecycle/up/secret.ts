import {RELEASE_LABEL} from '../../kube/kube-client.js'
import type {PhaseOutcome} from '../phase-runner.js'
import {applyPullSecret} from './pull-secret.js'
import {planOf, type UpRun} from './run.js'

/** Applies the Secret from the user's values (and the image pull Secret); an unchanged Secret is left as it is. */
export async function applySecret(run: UpRun): Promise<PhaseOutcome> {
  const {secret, release} = planOf(run)
  const target = `${secret.namespace}/${secret.name}`
  const applied = await run.connection.secrets.applySecret({
    namespace: secret.namespace,
    name: secret.name,
    values: run.secrets,
    labels: {[RELEASE_LABEL]: release},
  })
  const pull = await applyPullSecret(run.resolved, run.connection)
  const also = pull === null ? '' : `; ${pull.summary}`
  if (!applied.changed && !pull?.changed)
    return {skip: `${target} already holds these ${run.secrets.length} keys${also}`}
  return `${run.secrets.length} keys written to ${target}${also}`
}
