import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {BadInputError} from '../errors.js'
import type {ClusterApi, NodePortHolder} from './kube-client.js'

/** The stable id `doctor` reports this check by. */
export const NODE_PORT_RULE_ID = 'cluster.node-port-free'
export const NODE_PORT_CHECK_TITLE = 'fixed nodePorts free on the cluster'

/** A nodePort the configuration fixes for one of its Services. */
export interface FixedNodePort {
  service: ServiceName
  serviceName: string
  nodePort: number
  /** `file:line:col` of `services.<name>.service.nodePort`, or undefined when it is the built-in default. */
  where?: string
}

export interface NodePortConflict {
  port: FixedNodePort
  holder: NodePortHolder
}

export type NodePortVerdict =
  | {kind: 'none'}
  | {kind: 'free'; ports: FixedNodePort[]}
  | {kind: 'taken'; conflicts: NodePortConflict[]}
  /** The context may not list Services across namespaces. */
  | {kind: 'unknown'; ports: FixedNodePort[]}

export function fixedNodePorts(resolved: ResolvedConfig): FixedNodePort[] {
  const {config} = resolved
  return SERVICE_NAMES.flatMap((service): FixedNodePort[] => {
    const settings = config.services[service]
    const nodePort = settings.service.nodePort
    if (!settings.enabled || settings.service.type === 'ClusterIP' || nodePort === null) return []
    return [
      {
        service,
        serviceName: settings.service.name,
        nodePort,
        where: writtenAt(resolved, ['services', service, 'service', 'nodePort']),
      },
    ]
  })
}

/**
 * Where the config file writes this key, or undefined when it does not (a built-in default): `locate`
 * falls back to the nearest key written, which is then also where the parent key is found.
 */
function writtenAt(resolved: ResolvedConfig, keyPath: readonly string[]): string | undefined {
  const here = resolved.locate(keyPath)
  return here !== undefined && here !== resolved.locate(keyPath.slice(0, -1)) ? here : undefined
}

/**
 * Every nodePort the configuration fixes must be free, or held by this release's own Service (same
 * name, same namespace: an upgrade keeps it). Another Service holding it makes Helm fail half-way with
 * `provided port is already allocated`, so this is found before anything is built.
 */
export async function checkNodePorts(
  resolved: ResolvedConfig,
  api: Pick<ClusterApi, 'nodePortHolders'>,
): Promise<NodePortVerdict> {
  const ports = fixedNodePorts(resolved)
  if (ports.length === 0) return {kind: 'none'}
  const holders = await api.nodePortHolders(ports.map((port) => port.nodePort))
  if (holders === null) return {kind: 'unknown', ports}
  const namespace = resolved.config.namespace
  const conflicts = ports.flatMap((port) =>
    holders
      .filter((holder) => holder.nodePort === port.nodePort)
      .filter((holder) => !(holder.namespace === namespace && holder.name === port.serviceName))
      .map((holder) => ({port, holder})),
  )
  return conflicts.length > 0 ? {kind: 'taken', conflicts} : {kind: 'free', ports}
}

export function describeConflict({port, holder}: NodePortConflict): string {
  return `nodePort ${port.nodePort} of ${port.serviceName} is already held by Service ${holder.name} in namespace ${holder.namespace}`
}

export function conflictFix(conflicts: readonly NodePortConflict[]): string {
  const keys = [...new Set(conflicts.map(({port}) => `services.${port.service}.service.nodePort`))]
  const where = conflicts.map(({port}) => port.where).find((location) => location !== undefined)
  return (
    `set \`${keys.map((key) => `${key}: null`).join('`, `')}\` in todo-deploy.yaml${where ? ` (${where})` : ''} for an automatic port, ` +
    'or another port in 30000-32767 that no Service uses (`kubectl get svc -A` lists them)'
  )
}

/** For `up`'s preflight: exit 2 naming the Service that holds the port, before anything is built. */
export async function assertNodePortsFree(
  resolved: ResolvedConfig,
  api: Pick<ClusterApi, 'nodePortHolders'>,
): Promise<void> {
  const verdict = await checkNodePorts(resolved, api)
  if (verdict.kind !== 'taken') return
  const [first, ...rest] = verdict.conflicts
  if (first === undefined) return
  throw new BadInputError(describeConflict(first), {
    where:
      first.port.where ?? `services.${first.port.service}.service.nodePort (default ${first.port.nodePort})`,
    details: rest.map(describeConflict),
    fix: conflictFix(verdict.conflicts),
  })
}
