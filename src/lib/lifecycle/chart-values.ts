import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceName, type TodoDeployConfig} from '../config/schema.js'
import {parseRegistryUrl, registryRepository} from '../registry/registry-address.js'

/** The value keys the CLI sets on every deploy (`--set-string`): tags, the Secret checksum, the deploy digest. */
export const IMAGE_TAG_KEY = (service: ServiceName): string => `${service}.image.tag`
/** Where the configuration's values put each service's image repository (`serviceValues`). */
export const IMAGE_REPOSITORY_KEY = (service: ServiceName): string => `${service}.image.repository`
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
    // Only the Secret's name: the CLI creates it from the Docker login, the chart refers to it.
    imagePullSecrets: config.registry.pullSecret === null ? [] : [config.registry.pullSecret],
  }
  for (const name of SERVICE_NAMES) values[name] = serviceValues(name, config)
  return values
}

/**
 * The image repository the cluster runs for a service: `services.<s>.image.repository`, under
 * registry.url when one is set (`registry.example.com/team/todo-frontend`), where the push puts it.
 */
export function deployedRepository(config: TodoDeployConfig, service: ServiceName): string {
  const {repository} = config.services[service].image
  const {url, insecure} = config.registry
  return url === null ? repository : registryRepository(parseRegistryUrl(url, insecure), repository)
}

function serviceValues(name: ServiceName, config: TodoDeployConfig): Record<string, unknown> {
  const service = config.services[name]
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
    image: {repository: deployedRepository(config, name), pullPolicy: service.image.pullPolicy},
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
