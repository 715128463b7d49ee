/** Every validation rule of the data model (docs/data-model.md), by a stable id that `doctor --json` and the docs use. */
export const RULES = {
  'image.multi-stage': {
    title: 'multi-stage build',
    description:
      'The Dockerfile has a builder stage and a runtime stage, so compilers and build caches stay out of the image.',
  },
  'image.alpine-base': {
    title: 'alpine base',
    description:
      'Every stage starts FROM an alpine image (node:18-alpine, python:3.9-alpine); `scratch` is accepted with a warning.',
  },
  'image.non-root': {
    title: 'non-root user',
    description: 'The runtime stage ends with USER set to a non-root user (UID 1001 in the data model).',
  },
  'image.healthcheck': {
    title: 'HEALTHCHECK present',
    description: 'The runtime stage declares a HEALTHCHECK that calls the health endpoint.',
  },
  'image.name-pattern': {
    title: 'image name and tag pattern',
    description:
      'Image references are [registry/]name:tag with name [a-z0-9-]+ and tag [a-z0-9.-]+, no uppercase.',
  },
  'image.size': {
    title: 'image size under target',
    description: 'The built image is under its size target (frontend 500 MB, backend 300 MB).',
  },
  'k8s.resources.set': {
    title: 'requests and limits set',
    description: 'Every container sets cpu and memory requests and limits.',
  },
  'k8s.resources.request-le-limit': {
    title: 'request <= limit',
    description: 'No request is above its limit (Kubernetes rejects such a pod).',
  },
  'k8s.cpu.bounds': {title: 'CPU bounds', description: 'CPU request >= 100m and CPU limit <= 1000m.'},
  'k8s.memory.bounds': {
    title: 'memory bounds',
    description: 'Memory request >= 128Mi and memory limit <= 1Gi.',
  },
  'k8s.probes.set': {
    title: 'readiness and liveness probes',
    description: 'Every container has a readiness probe and a liveness probe.',
  },
  'k8s.labels.selector-match': {
    title: 'labels and selectors match',
    description:
      'Each Deployment selector matches its pod template labels, and each Service selects the pods of a Deployment.',
  },
  'k8s.env.sourced': {
    title: 'environment from ConfigMap / Secret',
    description:
      'Containers get configuration through envFrom / configMapKeyRef / secretKeyRef; no secret-looking variable has a literal value.',
  },
  'k8s.pull-policy.never': {
    title: 'pullPolicy Never for local images',
    description:
      'Images loaded into the cluster (no registry.url) use imagePullPolicy: Never, so the node never tries a registry.',
  },
  'k8s.pull-policy.registry': {
    title: 'pullPolicy IfNotPresent for registry images',
    description:
      'Images pushed to registry.url use imagePullPolicy: IfNotPresent, so the nodes pull each content tag once; Never is an error (nothing would pull them), Always a warning.',
  },
  'k8s.replicas.range': {
    title: 'replica count',
    description: 'replicas >= 1, at most 4 on minikube (2 recommended).',
  },
  'chart.fields': {
    title: 'Chart.yaml fields',
    description:
      'Chart.yaml has apiVersion v2, name, version, appVersion, type application and a description.',
  },
  'secrets.plain-text': {
    title: 'no plain-text secrets',
    description: 'No credential value is written in a values file, a manifest or the repository.',
  },
} as const satisfies Record<string, {title: string; description: string}>

export type RuleId = keyof typeof RULES
export type RuleSeverity = 'error' | 'warn'

export interface RuleViolation {
  id: RuleId
  severity: RuleSeverity
  /** What is wrong, e.g. `Deployment/todo-backend container backend`, `docker/backend.Dockerfile`. */
  object: string
  /** Where inside it, e.g. `spec.template.spec.containers[0].resources.limits.memory` or `line 12`. */
  field: string
  message: string
  fix: string
}

/** How a check says one thing is wrong with the object it looks at. */
export type ReportViolation = (
  id: RuleId,
  severity: RuleSeverity,
  field: string,
  message: string,
  fix: string,
) => void

/** Reports into `violations` as problems of `object`, each field under `fieldPrefix` when there is one. */
export function violationReporter(
  violations: RuleViolation[],
  object: string,
  fieldPrefix?: string,
): ReportViolation {
  return (id, severity, field, message, fix) => {
    violations.push({
      id,
      severity,
      object,
      field: fieldPrefix === undefined ? field : `${fieldPrefix}.${field}`,
      message,
      fix,
    })
  }
}

export const RULE_IDS = Object.keys(RULES) as RuleId[]
