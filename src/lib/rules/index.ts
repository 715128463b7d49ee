export {RULES, RULE_IDS, type RuleId, type RuleSeverity, type RuleViolation} from './catalogue.js'
export {parseQuantity, formatCpu, formatMemory} from './quantity.js'
export {checkDockerfile, type DockerfileCheckOptions} from './dockerfile.js'
export {
  checkImageReference,
  checkImageSize,
  parseImageReference,
  type ImageReference,
} from './image-reference.js'
export {checkRenderedObjects, type RenderedObjectsCheckOptions} from './kubernetes.js'
export {checkChartYaml} from './chart-metadata.js'
export {scanForSecrets, isSecretName, type SecretScanOptions} from './secret-scan.js'
export type {K8sObject} from './kubernetes-object.js'

import type {RuleViolation} from './catalogue.js'

/** A check passes when nothing it found is an error; warnings are shown but do not block `up`. */
export function hasErrors(violations: readonly RuleViolation[]): boolean {
  return violations.some((v) => v.severity === 'error')
}
