import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceConfig, type ServiceName} from '../config/schema.js'

/** The value keys the CLI sets on every deploy (`--set-string`): tags, the Secret checksum, the deploy digest. */
export const IMAGE_TAG_KEY = (service: ServiceName): string => `${service}.image.tag`
export const SECRET_CHECKSUM_KEY = 'secrets.checksum'
export const DEPLOY_DIGEST_KEY = 'todoDeploy.digest'

/**
 * The chart values the configuration decides, in the layout of manifests/todo-chatbot/values.yaml.
 * Helm applies them first; the chart's values files, `--values` and `--set` come after and win.
 * Only secret key NAMES appear here: values reach the cluster through the Secret the CLI applies.
 */
export function chartValuesFromConfig(resolved: ResolvedConfig): Record<string, unknown> {
  const {config} = resolved
  const values: Record<string, unknown> = {
    configMap: {name: config.configMap.name, data: resolved.configMapData},
    secrets: {existingSecret: config.secrets.name},
    strategy: {maxSurge: config.rollout.maxSurge, maxUnavailable: config.rollout.maxUnavailable},
    ingress: {
      enabled: config.ingress.enabled,
      className: config.ingress.className,
      host: config.ingress.host,
    },
  }
  for (const name of SERVICE_NAMES) values[name] = serviceValues(name, config.services[name])
  return values
}

function serviceValues(name: ServiceName, service: ServiceConfig): Record<string, unknown> {
  const probe = (kind: 'readiness' | 'liveness') => ({
    path: service.probes[kind].path ?? service.healthPath,
    initialDelaySeconds: service.probes[kind].initialDelaySeconds,
    periodSeconds: service.probes[kind].periodSeconds,
    timeoutSeconds: service.probes[kind].timeoutSeconds,
    failureThreshold: service.probes[kind].failureThreshold,
  })
  const startup = service.probes.startup
  return {
    enabled: service.enabled,
    name: service.deployment,
    tier: name,
    containerName: service.container,
    replicaCount: service.replicas,
    image: {repository: service.image.repository, pullPolicy: service.image.pullPolicy},
    containerPort: service.port,
    service: {
      name: service.service.name,
      type: service.service.type,
      port: service.service.port,
      nodePort: service.service.type === 'ClusterIP' ? null : service.service.nodePort,
    },
    resources: service.resources,
    probes: {
      readiness: probe('readiness'),
      liveness: probe('liveness'),
      startup: {
        enabled: startup.enabled,
        path: startup.path ?? service.healthPath,
        ...(startup.initialDelaySeconds === undefined
          ? {}
          : {initialDelaySeconds: startup.initialDelaySeconds}),
        periodSeconds: startup.periodSeconds,
        timeoutSeconds: startup.timeoutSeconds,
        failureThreshold: startup.failureThreshold,
      },
    },
    env: service.env,
    secretKeys: service.secretKeys,
  }
}
