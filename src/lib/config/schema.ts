import {z} from 'zod'

import {BadInputError} from '../errors.js'
import {
  hostName,
  isLoopbackHost,
  looksLikeRegistryHost,
  parseRegistryUrl,
  REGISTRY_URL_PATTERN,
} from '../registry/registry-address.js'

/** DNS-1123 label: what Kubernetes accepts for namespaces, release and object names. */
const dnsLabel = (max: number) =>
  z
    .string()
    // An empty name breaks the pattern too: say only that it is empty.
    .min(1, {message: 'must not be empty', abort: true})
    .max(max, `must be at most ${max} characters`)
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
      'must be lowercase letters, digits and "-", starting and ending with a letter or digit',
    )

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name')

/** A path inside the project folder; escaping it is refused when paths are resolved. */
const relativePath = z.string().min(1, 'must not be empty').max(4096, 'is too long')

const cpuQuantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(z.string().regex(/^(\d+(\.\d+)?|\.\d+)m?$/, 'must be a CPU quantity such as 100m or 0.5'))
const memoryQuantity = z
  .string()
  .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T|k)?$/, 'must be a memory quantity such as 128Mi or 1Gi')

const resourcePair = z.strictObject({cpu: cpuQuantity, memory: memoryQuantity})

const seconds = (min: number) => z.number().int('must be a whole number').min(min).max(3600)

const probe = z.strictObject({
  path: z.string().startsWith('/', 'must start with /').optional(),
  initialDelaySeconds: seconds(0),
  periodSeconds: seconds(1),
  timeoutSeconds: seconds(1),
  failureThreshold: z.number().int().min(1).max(100),
})

const startupProbe = probe.extend({enabled: z.boolean(), initialDelaySeconds: seconds(0).optional()})

const port = z.number().int('must be a whole number').min(1).max(65535)

const surge = z.union([
  z.number().int().min(0).max(100),
  z.string().regex(/^(100|[1-9]?\d)%$/, 'must be a whole number or a percentage such as 25%'),
])

const DURATION = /^(\d+)(ms|s|m|h)$/
/** The longest wait a duration may ask for: longer is a typo, and Node timers overflow past ~24.8 days. */
export const MAX_DURATION_MS = 24 * 3_600_000

/** `5m` → 300000 ms; undefined when `value` is not a duration. */
export function parseDuration(value: string): number | undefined {
  const match = DURATION.exec(value)
  if (!match) return undefined
  return Number(match[1]) * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[match[2] as 'ms' | 's' | 'm' | 'h']
}

/** `5m` → 300000 ms, for a value the schema already accepted. */
export function durationMs(value: string): number {
  const ms = parseDuration(value)
  if (ms === undefined)
    throw new BadInputError(`"${value}" is not a duration`, {fix: 'use a duration such as 90s, 5m or 1h'})
  return ms
}

const duration = z
  .string()
  .regex(DURATION, 'must be a duration such as 90s, 5m or 1h')
  .refine((value) => (parseDuration(value) ?? 1) > 0, 'must be longer than 0')
  .refine((value) => (parseDuration(value) ?? 0) <= MAX_DURATION_MS, 'must be at most 24h')

/**
 * One live-sync rule of `dev`: `from` (a folder or file of the build context) maps onto `to` (an absolute
 * path in the container), as in Tilt: with {from: www, to: /www}, www/a/b.html goes to /www/a/b.html.
 * That `from` stays inside the context (also through symlinks) is checked when paths are resolved.
 */
const syncRule = z.strictObject({
  from: relativePath,
  to: z
    .string()
    .min(1, {message: 'must not be empty', abort: true})
    .max(4096, 'is too long')
    .startsWith('/', {message: 'must be an absolute path in the container, such as /app', abort: true})
    .refine((value) => !value.split('/').includes('..'), 'must not contain ".." (name the folder itself)')
    .refine((value) => value.replace(/\/+$/, '') !== '', 'must name a folder below /, not / itself'),
})

const service = z.strictObject({
  enabled: z.boolean(),
  deployment: dnsLabel(63),
  container: dnsLabel(63),
  image: z.strictObject({
    /** `[registry/]name`; its pattern is rule image.name-pattern (checked with the other rules). */
    repository: z.string().min(1, 'must not be empty').max(255),
    pullPolicy: z.enum(['Never', 'IfNotPresent', 'Always']),
    sizeTargetMB: z.number().int().min(1).max(100_000),
  }),
  build: z.strictObject({
    context: relativePath,
    dockerfile: relativePath.nullable(),
    args: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a build-arg name'), z.string()),
  }),
  port,
  healthPath: z.string().startsWith('/', 'must start with /'),
  replicas: z.number().int('must be a whole number').min(0).max(100),
  resources: z.strictObject({requests: resourcePair, limits: resourcePair}),
  probes: z.strictObject({readiness: probe, liveness: probe, startup: startupProbe}),
  env: z.record(envName, z.string()),
  secretKeys: z.array(envName),
  /** `dev` live sync; null: the bundled Dockerfile's rules (none with a Dockerfile of your own). */
  sync: z.array(syncRule).nullable(),
  service: z.strictObject({
    name: dnsLabel(63),
    type: z.enum(['NodePort', 'ClusterIP', 'LoadBalancer']),
    port,
    nodePort: z
      .number()
      .int()
      .min(30000, 'must be in the NodePort range 30000-32767')
      .max(32767, 'must be in the NodePort range 30000-32767')
      .nullable(),
  }),
})

/**
 * `host[:port][/namespace]`. Credentials are refused first and without echoing the value: a URL that
 * held them would otherwise be quoted back in the error, and reach logs and the state record.
 */
const registryUrl = z
  .string()
  .refine((value) => !value.includes('@'), {
    message:
      'must not hold credentials (user:password@host): put them in the Docker config with `docker login <host>`',
    abort: true,
  })
  .min(1, {message: 'must not be empty', abort: true})
  .max(255, {message: 'must be at most 255 characters', abort: true})
  .refine((value) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(value), {
    message:
      'is written without a scheme, as in an image name: registry.example.com/team (set registry.insecure for plain HTTP)',
    abort: true,
  })
  .regex(
    REGISTRY_URL_PATTERN,
    'must be host[:port][/path] such as registry.example.com/team or localhost:5000, with a lowercase path',
  )
  .refine((value) => looksLikeRegistryHost(value.split('/')[0] ?? ''), {
    message:
      'must start with a registry host (with a dot or a port, or localhost); Docker reads a bare name as a Docker Hub user',
  })

const registry = z
  .strictObject({
    url: registryUrl.nullable(),
    insecure: z.boolean(),
    /** Name of the image pull Secret the CLI creates from the Docker config's credentials. */
    pullSecret: dnsLabel(253).nullable(),
  })
  .superRefine((value, context) => {
    if (value.insecure && value.url !== null && !isLoopbackHost(parseRegistryUrl(value.url).host)) {
      context.addIssue({
        code: 'custom',
        path: ['insecure'],
        message: `plain HTTP is allowed only for a registry on this machine (localhost, 127.0.0.1, *.localhost), not ${hostName(parseRegistryUrl(value.url).host)}: it would send the credentials in the clear; serve the registry over HTTPS`,
      })
    }
    if (value.pullSecret !== null && value.url === null) {
      context.addIssue({
        code: 'custom',
        path: ['pullSecret'],
        message: 'needs registry.url: the pull Secret holds the credentials for that registry',
      })
    }
  })

export const SERVICE_NAMES = ['frontend', 'backend'] as const
export type ServiceName = (typeof SERVICE_NAMES)[number]

export const configSchema = z
  .strictObject({
    release: dnsLabel(53),
    namespace: dnsLabel(63),
    chart: z.strictObject({
      path: relativePath.nullable(),
      valuesFiles: z.array(relativePath),
      extraValuesFiles: z.array(relativePath),
      historyMax: z.number().int().min(1).max(1000),
    }),
    cluster: z.strictObject({
      kind: z.enum(['auto', 'minikube', 'kind', 'k3d', 'docker-desktop', 'remote']),
      profile: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a minikube profile name')
        .max(100),
      context: z.string().min(1).max(253).nullable(),
      imageLoad: z.enum(['auto', 'load', 'docker-env', 'none']),
    }),
    secrets: z.strictObject({
      name: dnsLabel(253),
      envFile: relativePath,
    }),
    configMap: z.strictObject({
      name: dnsLabel(253),
      data: z.record(envName, z.string()).nullable(),
    }),
    rollout: z.strictObject({
      maxSurge: surge,
      maxUnavailable: surge,
      timeout: duration,
      crashLoopRestarts: z.number().int().min(1).max(50),
    }),
    ingress: z.strictObject({
      enabled: z.boolean(),
      className: z.string().min(1),
      host: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase host name'),
    }),
    registry,
    services: z.strictObject({frontend: service, backend: service}),
  })
  .superRefine((value, context) => {
    // registry.url is put before the repository; a repository naming a registry would be pushed under both.
    for (const name of SERVICE_NAMES) {
      const first = value.services[name].image.repository.split('/')[0] ?? ''
      if (
        value.registry.url !== null &&
        value.services[name].image.repository.includes('/') &&
        looksLikeRegistryHost(first)
      ) {
        context.addIssue({
          code: 'custom',
          path: ['services', name, 'image', 'repository'],
          message: `names the registry ${first}, and registry.url is set too: give the bare image name (registry.url says where it is pushed)`,
        })
      }
    }
    if (value.cluster.kind === 'remote' && value.registry.url === null) {
      context.addIssue({
        code: 'custom',
        path: ['cluster', 'kind'],
        message:
          'remote needs registry.url: a remote cluster pulls the images from a registry, nothing is loaded into its nodes',
      })
    }
  })

export type RegistryConfig = z.infer<typeof registry>
export type SyncRuleConfig = z.infer<typeof syncRule>
export type ServiceConfig = z.infer<typeof service>
export type ProbeConfig = z.infer<typeof probe>
/** The validated configuration as written (paths still relative to the project folder). */
export type TodoDeployConfig = z.infer<typeof configSchema>
