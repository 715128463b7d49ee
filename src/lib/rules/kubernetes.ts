import {violationReporter, type ReportViolation, type RuleViolation} from './catalogue.js'
import {checkImageReference} from './image-reference.js'
import type {K8sObject} from './kubernetes-object.js'
import {formatCpu, formatMemory, parseQuantity} from './quantity.js'
import {isSecretName, scanForSecrets} from './secret-scan.js'

export interface RenderedObjectsCheckOptions {
  /**
   * Images are loaded into the cluster, not pulled: pullPolicy must be Never (k8s.pull-policy.never).
   * False when they come from registry.url: the nodes must pull them (k8s.pull-policy.registry).
   */
  localImages: boolean
  /** `minikube`, `kind`, `k3d`, `docker-desktop`, ...: a single-node cluster bounds the replica count. */
  clusterKind: string
  /** Secret names of the data model; a literal env value under one of them is reported. */
  secretKeyNames?: readonly string[]
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'])
const SINGLE_NODE_CLUSTERS = new Set(['minikube', 'kind', 'k3d', 'docker-desktop'])
const MAX_REPLICAS_SINGLE_NODE = 4
const RECOMMENDED_REPLICAS = 2

/** A request under its bound or a limit over it is warned about (k8s.cpu.bounds, k8s.memory.bounds). */
const RESOURCE_BOUNDS = [
  ['requests', 'cpu', 0.1, 'is below 100m: the pod starves under load', 'request at least 100m'],
  ['limits', 'cpu', 1, 'is above 1000m', 'limit cpu to at most 1000m on a local cluster'],
  ['requests', 'memory', 128 * 2 ** 20, 'is below 128Mi', 'request at least 128Mi'],
  ['limits', 'memory', 2 ** 30, 'is above 1Gi', 'limit memory to at most 1Gi on a local cluster'],
] as const

interface Workload {
  object: K8sObject
  label: string
  selector: Record<string, string>
  podLabels: Record<string, string>
}

/** The k8s.* rules (and secrets.plain-text for rendered Secrets / ConfigMaps) over rendered objects. */
export function checkRenderedObjects(
  objects: readonly K8sObject[],
  options: RenderedObjectsCheckOptions,
): RuleViolation[] {
  const violations: RuleViolation[] = []
  const workloads: Workload[] = []
  for (const object of objects) {
    const label = `${object.kind ?? 'Object'}/${object.metadata?.name ?? '?'}`
    if (object.kind && WORKLOAD_KINDS.has(object.kind))
      workloads.push(checkWorkload(object, label, options, violations))
    if (object.kind === 'Secret') checkRenderedSecret(object, label, violations)
    if (object.kind === 'ConfigMap') checkConfigMap(object, label, options, violations)
  }
  for (const object of objects) if (object.kind === 'Service') checkService(object, workloads, violations)
  return violations
}

function checkWorkload(
  object: K8sObject,
  label: string,
  options: RenderedObjectsCheckOptions,
  violations: RuleViolation[],
): Workload {
  const spec = record(object.spec)
  const template = record(spec.template)
  const podLabels = strings(record(template.metadata).labels)
  const selector = strings(record(spec.selector).matchLabels)
  const report = violationReporter(violations, label)

  const mismatched = Object.entries(selector).filter(([key, value]) => podLabels[key] !== value)
  if (Object.keys(selector).length === 0) {
    report(
      'k8s.labels.selector-match',
      'error',
      'spec.selector.matchLabels',
      'the selector is empty',
      'select the pods by `app` and `app.kubernetes.io/instance`',
    )
  } else if (mismatched.length > 0) {
    report(
      'k8s.labels.selector-match',
      'error',
      'spec.template.metadata.labels',
      `the pod template lacks the selector labels ${mismatched.map(([k, v]) => `${k}=${v}`).join(', ')}: Kubernetes rejects the object`,
      'give the pod template every label of spec.selector.matchLabels',
    )
  }

  if (object.kind !== 'DaemonSet') {
    const replicas = spec.replicas === undefined ? 1 : Number(spec.replicas)
    if (!Number.isInteger(replicas) || replicas < 1) {
      report(
        'k8s.replicas.range',
        'error',
        'spec.replicas',
        `replicas is ${String(spec.replicas)}: nothing would serve requests`,
        'set replicaCount to at least 1',
      )
    } else if (SINGLE_NODE_CLUSTERS.has(options.clusterKind) && replicas > MAX_REPLICAS_SINGLE_NODE) {
      report(
        'k8s.replicas.range',
        'error',
        'spec.replicas',
        `${replicas} replicas on a single-node ${options.clusterKind} cluster (at most ${MAX_REPLICAS_SINGLE_NODE})`,
        `use ${RECOMMENDED_REPLICAS} replicas locally`,
      )
    } else if (SINGLE_NODE_CLUSTERS.has(options.clusterKind) && replicas > RECOMMENDED_REPLICAS) {
      report(
        'k8s.replicas.range',
        'warn',
        'spec.replicas',
        `${replicas} replicas on ${options.clusterKind}: ${RECOMMENDED_REPLICAS} are recommended`,
        `lower replicaCount to ${RECOMMENDED_REPLICAS} unless you test scaling`,
      )
    }
  }

  const containers = Array.isArray(record(template.spec).containers)
    ? (record(template.spec).containers as unknown[])
    : []
  containers.forEach((raw, index) =>
    checkContainer(
      record(raw),
      `${label} container ${String(record(raw).name ?? index)}`,
      `spec.template.spec.containers[${index}]`,
      options,
      violations,
    ),
  )
  return {object, label, selector, podLabels}
}

function checkContainer(
  container: Record<string, unknown>,
  label: string,
  path: string,
  options: RenderedObjectsCheckOptions,
  violations: RuleViolation[],
): void {
  const report = violationReporter(violations, label, path)

  const image = typeof container.image === 'string' ? container.image : ''
  for (const problem of checkImageReference(image))
    report(problem.id, problem.severity, 'image', problem.message, problem.fix)

  if (options.localImages && container.imagePullPolicy !== 'Never') {
    report(
      'k8s.pull-policy.never',
      'error',
      'imagePullPolicy',
      `imagePullPolicy is ${String(container.imagePullPolicy ?? 'unset (Always for :latest, else IfNotPresent)')}: the node would try a registry for an image that exists only in the cluster`,
      'set image.pullPolicy: Never',
    )
  }
  if (!options.localImages) checkRegistryPullPolicy(container.imagePullPolicy, report)

  checkResources(record(container.resources), report)

  for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
    if (container[probe] === undefined) {
      report(
        'k8s.probes.set',
        'error',
        probe,
        `no ${probe}: ${probe === 'readinessProbe' ? 'traffic reaches pods before they can answer' : 'a hung process is never restarted'}`,
        `add an httpGet ${probe} on the health endpoint`,
      )
    }
  }

  checkEnvironment(container, options, report)
}

function checkResources(resources: Record<string, unknown>, report: ReportViolation): void {
  const amounts: Partial<Record<'requests' | 'limits', Partial<Record<'cpu' | 'memory', number>>>> = {}
  for (const kind of ['requests', 'limits'] as const) {
    const section = record(resources[kind])
    amounts[kind] = {}
    for (const resource of ['cpu', 'memory'] as const) {
      const raw = section[resource]
      const field = `resources.${kind}.${resource}`
      if (raw === undefined || raw === null) {
        report(
          'k8s.resources.set',
          'error',
          field,
          `no ${resource} ${kind === 'requests' ? 'request' : 'limit'}`,
          `set ${field} (data model: ${resource === 'cpu' ? (kind === 'requests' ? '100m' : '500m') : kind === 'requests' ? '128Mi' : '512Mi'})`,
        )
        continue
      }
      const parsed = typeof raw === 'string' || typeof raw === 'number' ? parseQuantity(raw) : undefined
      if (parsed === undefined) {
        report(
          'k8s.resources.set',
          'error',
          field,
          `"${String(raw)}" is not a Kubernetes quantity`,
          'use e.g. 100m / 0.5 for cpu, 128Mi / 1Gi for memory',
        )
        continue
      }
      amounts[kind][resource] = parsed
    }
  }
  const format = (resource: 'cpu' | 'memory', value: number) =>
    resource === 'cpu' ? formatCpu(value) : formatMemory(value)
  for (const resource of ['cpu', 'memory'] as const) {
    const request = amounts.requests?.[resource]
    const limit = amounts.limits?.[resource]
    if (request !== undefined && limit !== undefined && request > limit) {
      report(
        'k8s.resources.request-le-limit',
        'error',
        `resources.requests.${resource}`,
        `${resource} request ${format(resource, request)} is above its limit ${format(resource, limit)}: Kubernetes rejects the pod`,
        `lower the request or raise the limit to at least ${format(resource, request)}`,
      )
    }
  }
  for (const [kind, resource, bound, says, fix] of RESOURCE_BOUNDS) {
    const value = amounts[kind]?.[resource]
    if (value === undefined || (kind === 'requests' ? value >= bound : value <= bound)) continue
    const shown = `${resource} ${kind === 'requests' ? 'request' : 'limit'} ${format(resource, value)}`
    report(`k8s.${resource}.bounds`, 'warn', `resources.${kind}.${resource}`, `${shown} ${says}`, fix)
  }
}

function checkEnvironment(
  container: Record<string, unknown>,
  options: RenderedObjectsCheckOptions,
  report: ReportViolation,
): void {
  const names = new Set(options.secretKeyNames ?? [])
  const env = Array.isArray(container.env) ? container.env.map(record) : []
  const envFrom = Array.isArray(container.envFrom) ? container.envFrom.map(record) : []
  env.forEach((entry, index) => {
    const name = typeof entry.name === 'string' ? entry.name : ''
    const literal = entry.value
    if (isSecretName(name, names) && typeof literal === 'string' && literal !== '') {
      report(
        'k8s.env.sourced',
        'error',
        `env[${index}].value`,
        `${name} has a literal value in the manifest (and so in Helm's release history)`,
        `read it from the Secret: valueFrom.secretKeyRef {name: todo-app-secrets, key: ${name}}`,
      )
    }
  })
  const sourced =
    envFrom.some((e) => e.configMapRef !== undefined || e.secretRef !== undefined) ||
    env.some((e) => e.valueFrom !== undefined)
  if (!sourced) {
    report(
      'k8s.env.sourced',
      'warn',
      'envFrom',
      'the container reads no ConfigMap or Secret',
      'add envFrom: [{configMapRef: {name: todo-app-config}}]',
    )
  }
}

function checkRenderedSecret(object: K8sObject, label: string, violations: RuleViolation[]): void {
  const values = [...Object.keys(record(object.data)), ...Object.keys(record(object.stringData))]
  if (values.length === 0) return
  violations.push({
    id: 'secrets.plain-text',
    severity: 'error',
    object: label,
    field: object.stringData ? 'stringData' : 'data',
    message: `the rendered manifests carry values for ${values.join(', ')}: Helm keeps them in its release history`,
    fix: 'leave the Secret out of the chart; todo-deploy creates it from the environment / .env and the chart refers to it by name',
  })
}

function checkConfigMap(
  object: K8sObject,
  label: string,
  options: RenderedObjectsCheckOptions,
  violations: RuleViolation[],
): void {
  for (const [key, value] of Object.entries(record(object.data))) {
    for (const finding of scanForSecrets(`${key}: ${String(value)}`, {
      file: label,
      secretKeyNames: options.secretKeyNames ?? [],
    })) {
      violations.push({
        ...finding,
        object: label,
        field: `data.${key}`,
        message: `${finding.message} (a ConfigMap is not secret)`,
      })
    }
  }
}

function checkService(object: K8sObject, workloads: readonly Workload[], violations: RuleViolation[]): void {
  const spec = record(object.spec)
  const selector = strings(spec.selector)
  if (Object.keys(selector).length === 0) return
  const matches = workloads.some((w) =>
    Object.entries(selector).every(([key, value]) => w.podLabels[key] === value),
  )
  if (!matches) {
    violations.push({
      id: 'k8s.labels.selector-match',
      severity: 'error',
      object: `Service/${object.metadata?.name ?? '?'}`,
      field: 'spec.selector',
      message: `the selector ${Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')} matches no pod template: the service has no endpoints`,
      fix: `use the labels of the Deployment's pods (${
        workloads
          .map(
            (w) =>
              `${w.label}: ${Object.entries(w.selector)
                .map(([k, v]) => `${k}=${v}`)
                .join(',')}`,
          )
          .join('; ') || 'none rendered'
      })`,
    })
  }
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

function strings(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(value)).map(([k, v]) => [k, String(v)]))
}

/**
 * k8s.pull-policy.registry: an image pushed to registry.url reaches the nodes only by a pull. Never would
 * keep every pod waiting (ErrImageNeverPull); Always works but asks the registry on every pod start,
 * which a content tag (the same tag is always the same image) makes needless.
 */
function checkRegistryPullPolicy(policy: unknown, report: ReportViolation): void {
  if (policy === 'Never') {
    report(
      'k8s.pull-policy.registry',
      'error',
      'imagePullPolicy',
      'imagePullPolicy is Never for an image from registry.url: the nodes would never pull it (ErrImageNeverPull)',
      'set image.pullPolicy: IfNotPresent (or leave it out: with registry.url it is the default)',
    )
  } else if (policy === 'Always') {
    report(
      'k8s.pull-policy.registry',
      'warn',
      'imagePullPolicy',
      'imagePullPolicy is Always for an image from registry.url: every pod start asks the registry, though a content tag never changes its image',
      'set image.pullPolicy: IfNotPresent',
    )
  }
}
