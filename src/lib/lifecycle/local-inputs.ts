import {assertBuildInputs} from '../config/build-inputs.js'
import {assertConfigRules} from '../config/config-rules.js'
import type {ResolvedConfig} from '../config/load.js'
import {assertSecretsPresent, resolveSecrets} from '../secrets/resolve.js'
import type {SecretValue} from '../secrets/secret-value.js'

/**
 * What `up` and `dev` read from this machine, checked before the cluster is asked anything, so bad input
 * is exit 2 whether a cluster runs or not: the Secret values, the configuration's rules (as for minikube
 * until the context says otherwise), the build contexts and Dockerfiles. Returns the Secret values.
 */
export function checkLocalInputs(resolved: ResolvedConfig): SecretValue[] {
  const secrets = assertSecretsPresent(resolveSecrets(resolved), resolved)
  const {kind} = resolved.config.cluster
  assertConfigRules(resolved, kind === 'auto' ? 'minikube' : kind)
  assertBuildInputs(resolved)
  return secrets
}
