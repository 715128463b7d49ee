import {BadInputError} from '../errors.js'
import {checkRenderedObjects, type K8sObject, type RuleViolation} from '../rules/index.js'
import type {ResolvedConfig} from './load.js'
import {SERVICE_NAMES, type ServiceName} from './schema.js'

/** A rule violation found in the configuration, with the key path and `file:line:col` that caused it. */
export interface ConfigRuleViolation extends RuleViolation {
  keyPath: string
  where?: string
}

/** Placeholder for the content tag `up` computes: the tag pattern is checked on what the tag will look like. */
const CONTENT_TAG_SHAPE = '0123456789ab'

/**
 * Every validation rule (docs/data-model.md) that the configuration alone decides. The configuration is turned into the
 * Deployments it will produce and checked by the same rules that check `helm template` output, so one
 * implementation serves `doctor`, config loading and the pre-deploy check; findings point back at keys.
 */
export function checkConfigRules(resolved: ResolvedConfig, clusterKind: string): ConfigRuleViolation[] {
  const {config} = resolved
  const byDeployment = new Map<string, ServiceName>()
  const objects: K8sObject[] = []
  for (const name of SERVICE_NAMES) {
    const service = config.services[name]
    if (!service.enabled) continue
    byDeployment.set(`Deployment/${service.deployment}`, name)
    objects.push(plannedDeployment(resolved, name))
  }
  const violations = checkRenderedObjects(objects, {
    localImages: config.registry.url === null,
    clusterKind,
    secretKeyNames: [...new Set(SERVICE_NAMES.flatMap((name) => config.services[name].secretKeys))],
  })
  return violations.map((violation) => {
    // Container findings name the object "Deployment/x container y": the Deployment is the first word.
    const service = byDeployment.get(violation.object.split(' ')[0] ?? violation.object)
    const keyPath = service
      ? configKeyPath(service, violation.field, Object.keys(config.services[service].env))
      : []
    return {...violation, keyPath: keyPath.join('.'), where: resolved.locate(keyPath)}
  })
}

/** Refuses a configuration that breaks an error-level rule (exit 2), listing every finding with its location. */
export function assertConfigRules(resolved: ResolvedConfig, clusterKind: string): ConfigRuleViolation[] {
  const violations = checkConfigRules(resolved, clusterKind)
  const errors = violations.filter((violation) => violation.severity === 'error')
  if (errors.length > 0) {
    throw new BadInputError(
      `the configuration breaks ${errors.length} rule${errors.length === 1 ? '' : 's'} of the data model`,
      {
        details: errors.map(describeConfigViolation),
        fix:
          errors.length === 1
            ? errors[0]?.fix
            : 'correct the keys above (`todo-deploy doctor` lists every rule)',
      },
    )
  }
  return violations
}

export function describeConfigViolation(violation: ConfigRuleViolation): string {
  const where = violation.where ?? resolvedDefault(violation.keyPath)
  return `${where}  ${violation.keyPath || violation.object}: ${violation.message} [${violation.id}]`
}

function resolvedDefault(keyPath: string): string {
  return keyPath ? '(built-in default)' : ''
}

function plannedDeployment(resolved: ResolvedConfig, name: ServiceName): K8sObject {
  const service = resolved.config.services[name]
  const probe = (kind: 'readiness' | 'liveness') => {
    const settings = service.probes[kind]
    return {
      httpGet: {path: settings.path ?? service.healthPath, port: service.port},
      initialDelaySeconds: settings.initialDelaySeconds,
      periodSeconds: settings.periodSeconds,
      timeoutSeconds: settings.timeoutSeconds,
      failureThreshold: settings.failureThreshold,
    }
  }
  const labels = {app: service.deployment, tier: name}
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name: service.deployment, labels},
    spec: {
      replicas: service.replicas,
      selector: {matchLabels: labels},
      template: {
        metadata: {labels},
        spec: {
          containers: [
            {
              name: service.container,
              image: `${service.image.repository}:${CONTENT_TAG_SHAPE}`,
              imagePullPolicy: service.image.pullPolicy,
              ports: [{containerPort: service.port}],
              resources: service.resources,
              readinessProbe: probe('readiness'),
              livenessProbe: probe('liveness'),
              envFrom: [{configMapRef: {name: resolved.config.configMap.name}}],
              env: [
                ...Object.entries(service.env).map(([envName, value]) => ({name: envName, value})),
                ...service.secretKeys.map((key) => ({
                  name: key,
                  valueFrom: {secretKeyRef: {name: resolved.config.secrets.name, key}},
                })),
              ],
            },
          ],
        },
      },
    },
  }
}

/** Maps a field of the planned Deployment back to the config key that produced it. */
function configKeyPath(service: ServiceName, field: string, envNames: string[]): (string | number)[] {
  const base: (string | number)[] = ['services', service]
  if (field === 'spec.replicas') return [...base, 'replicas']
  const container = /^spec\.template\.spec\.containers\[0\]\.(.+)$/.exec(field)?.[1]
  if (!container) return base
  if (container === 'image') return [...base, 'image', 'repository']
  if (container === 'imagePullPolicy') return [...base, 'image', 'pullPolicy']
  if (container.startsWith('resources.')) return [...base, ...container.split('.')]
  if (container.startsWith('readinessProbe')) return [...base, 'probes', 'readiness']
  if (container.startsWith('livenessProbe')) return [...base, 'probes', 'liveness']
  const envIndex = /^env\[(\d+)\]/.exec(container)?.[1]
  const envName = envIndex === undefined ? undefined : envNames[Number(envIndex)]
  if (envName !== undefined) return [...base, 'env', envName]
  return base
}
