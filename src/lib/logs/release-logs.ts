import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {inputExcerpt} from '../config/input-excerpt.js'
import {BadInputError} from '../errors.js'
import {releaseSelector} from '../kube/kube-client.js'
import type {WorkloadSource} from '../kube/workload-source.js'
import {LogMultiplexer, type LogEvent, type ReopenPolicy} from './log-multiplexer.js'
import type {ContainerLogSource} from './log-source.js'

export interface ReleaseLogsOptions {
  /** Service names as the user typed them; empty: every enabled service. */
  services: string[]
  follow: boolean
  previous: boolean
  tail: number | 'all'
  sinceSeconds?: number
  reopen?: ReopenPolicy
}

export interface ReleaseLogsResult {
  /** False when none of the chosen services has a Deployment: nothing is deployed to show logs of. */
  deployed: boolean
  services: ServiceName[]
  pods: number
  lines: number
}

/**
 * The services `names` ask for with their Deployments, in the configuration's order; all enabled ones
 * when `names` is empty. An unknown or disabled name is bad input (exit 2) naming the valid ones.
 */
export function chooseServices(
  resolved: ResolvedConfig,
  names: readonly string[],
): Array<{service: ServiceName; deployment: string}> {
  const {services} = resolved.config
  const enabled = SERVICE_NAMES.filter((name) => services[name].enabled)
  for (const name of names) {
    if (!(SERVICE_NAMES as readonly string[]).includes(name)) {
      throw new BadInputError(`unknown service "${inputExcerpt(name)}"`, {
        where: `argument ${inputExcerpt(name)}`,
        fix: `name one or more of: ${enabled.join(', ')} (or none for all of them)`,
      })
    }
    if (!services[name as ServiceName].enabled) {
      throw new BadInputError(`service ${name} is disabled in the configuration`, {
        where: `argument ${name}`,
        fix: `name one of the enabled services (${enabled.join(', ') || 'none'}), or enable it with services.${name}.enabled: true`,
      })
    }
  }
  const chosen = names.length === 0 ? enabled : enabled.filter((name) => names.includes(name))
  return chosen.map((service) => ({service, deployment: services[service].deployment}))
}

/**
 * `todo-deploy logs`: the logs of the chosen services' pods, as events for the caller to render. Not
 * deployed (no Deployment of those services) returns `deployed: false` without reading any log. With
 * `follow` it runs until the signal aborts.
 */
export async function streamReleaseLogs(
  resolved: ResolvedConfig,
  connection: {workloads: WorkloadSource; logStreams: ContainerLogSource},
  options: ReleaseLogsOptions,
  onEvent: (event: LogEvent) => void,
  signal?: AbortSignal,
): Promise<ReleaseLogsResult> {
  const chosen = chooseServices(resolved, options.services)
  const services = chosen.map(({service}) => service)
  const {namespace, release} = resolved.config
  const labelSelector = releaseSelector(release)
  const snapshot = await connection.workloads.snapshot(namespace, labelSelector)
  const deployments = new Set(chosen.map(({deployment}) => deployment))
  if (!snapshot.deployments.some((deployment) => deployments.has(deployment.metadata?.name ?? ''))) {
    return {deployed: false, services, pods: 0, lines: 0}
  }
  const multiplexer = new LogMultiplexer(
    {workloads: connection.workloads, logStreams: connection.logStreams},
    {
      namespace,
      labelSelector,
      services: chosen,
      follow: options.follow,
      previous: options.previous,
      tail: options.tail,
      sinceSeconds: options.sinceSeconds,
      reopen: options.reopen,
    },
  )
  const summary = await multiplexer.run(onEvent, signal)
  return {deployed: true, services, ...summary}
}
