import {readFileSync} from 'node:fs'
import path from 'node:path'

import {detectClusterKind, type DetectedCluster} from '../cluster/cluster-kind.js'
import {findBuildInputProblems} from '../config/build-inputs.js'
import {checkConfigRules, type ConfigRuleViolation} from '../config/config-rules.js'
import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES} from '../config/schema.js'
import {ExitCode, isTodoDeployError} from '../errors.js'
import type {ClusterApi} from '../kube/kube-client.js'
import type {LoadedKubeConfig} from '../kube/kube-config.js'
import {
  checkNodePorts,
  conflictFix,
  describeConflict,
  NODE_PORT_CHECK_TITLE,
  NODE_PORT_RULE_ID,
  type FixedNodePort,
  type NodePortVerdict,
} from '../kube/node-port-check.js'
import {
  checkChartYaml,
  checkDockerfile,
  RULES,
  scanForSecrets,
  type RuleId,
  type RuleViolation,
} from '../rules/index.js'
import {parseRegistryUrl, registryApiBase} from '../registry/registry-address.js'
import {RegistryRefusedError} from '../registry/registry-errors.js'
import {requiredSecretNames, resolveSecrets} from '../secrets/resolve.js'
import type {PreflightProbes, RegistryProbe} from './preflight.js'

export type CheckStatus = 'pass' | 'warn' | 'fail'

/** One line of `doctor`; `--json` prints an array of these. */
export interface DoctorCheck {
  id: string
  check: string
  status: CheckStatus
  detail: string
  fix: string | null
}

export interface DoctorReport {
  checks: DoctorCheck[]
  /** 0 nothing failed; 2 the configuration breaks a rule (wins: bad input whether or not a cluster runs); 3 a prerequisite is missing. */
  exitCode: 0 | 2 | 3
}

/** Rules `doctor` can decide from the configuration, the Dockerfiles, the chart and the values files. */
const STATIC_RULES: RuleId[] = [
  'image.multi-stage',
  'image.alpine-base',
  'image.non-root',
  'image.healthcheck',
  'image.name-pattern',
  'k8s.resources.set',
  'k8s.resources.request-le-limit',
  'k8s.cpu.bounds',
  'k8s.memory.bounds',
  'k8s.probes.set',
  'k8s.env.sourced',
  'k8s.pull-policy.never',
  'k8s.replicas.range',
  'chart.fields',
  'secrets.plain-text',
]

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv
  onCheck?: (check: DoctorCheck) => void
  /** A check that can take a while starts (for a spinner). */
  onStart?: (check: string) => void
}

export async function runDoctor(
  resolved: ResolvedConfig,
  probes: PreflightProbes,
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const checks: DoctorCheck[] = []
  const emit = (check: DoctorCheck): void => {
    checks.push(check)
    options.onCheck?.(check)
  }
  const prerequisite = async (id: string, check: string, probe: () => Promise<string>): Promise<boolean> => {
    options.onStart?.(`checking: ${check}`)
    try {
      emit({id, check, status: 'pass', detail: await probe(), fix: null})
      return true
    } catch (error) {
      emit(failed(id, check, error))
      return false
    }
  }

  const {config} = resolved
  await prerequisite('prereq.docker', 'Docker Engine reachable', async () => {
    const engine = await probes.dockerEngine()
    return `Docker Engine ${engine.version} at ${engine.address}`
  })
  await prerequisite(
    'prereq.helm',
    'helm 3.8+ or 4.x on PATH',
    async () => `helm ${(await probes.helm()).version}`,
  )

  let kube: LoadedKubeConfig | undefined
  let detected: DetectedCluster | undefined
  await prerequisite('prereq.kube-context', 'kube context', async () => {
    kube = probes.kubeContext(config.cluster.context ?? undefined)
    detected = detectClusterKind({
      configuredKind: config.cluster.kind,
      context: kube.context,
      minikubeProfile: config.cluster.profile,
      registryConfigured: config.registry.url !== null,
    })
    const isProfile = detected.kind === 'minikube' && kube.context === config.cluster.profile
    return `context "${kube.context}" (${detected.kind}${isProfile ? `, the minikube profile "${config.cluster.profile}"` : ''}) at ${kube.server}`
  })
  if (kube && detected?.kind === 'minikube' && kube.context !== config.cluster.profile) {
    checks[checks.length - 1] = {
      ...checks[checks.length - 1]!,
      status: 'warn',
      fix: `switch to the profile's context (\`kubectl config use-context ${config.cluster.profile}\`) or set cluster.profile`,
    }
  }
  // Without a usable context the data model's cluster (minikube, or the configured kind) is still checked.
  const cluster: DetectedCluster = detected ?? {
    kind: config.cluster.kind === 'auto' ? 'minikube' : config.cluster.kind,
    name: config.cluster.profile,
  }
  let reachable = false
  // A remote cluster has no tool of ours: whether it answers is prereq.cluster's question.
  if (cluster.kind !== 'remote') {
    const tool = cluster.kind === 'docker-desktop' ? 'Docker Desktop' : cluster.kind
    await prerequisite(`prereq.${cluster.kind}`, `${tool} installed and the cluster running`, async () => {
      const status = await probes.clusterTool(cluster)
      return `${tool} ${status.version}; ${status.detail}`
    })
  }
  if (kube) {
    const loaded = kube
    reachable = await prerequisite(
      'prereq.cluster',
      'cluster reachable',
      async () => `Kubernetes ${await probes.clusterVersion(loaded)} at ${loaded.server}`,
    )
  } else {
    emit({
      id: 'prereq.cluster',
      check: 'cluster reachable',
      status: 'fail',
      detail: 'skipped: no usable kube context',
      fix: 'fix the kube context first',
    })
  }

  if (config.registry.url !== null) {
    options.onStart?.('checking: registry reachable and logged in')
    for (const check of await registryChecks(probes, config.registry.url, config.registry.insecure))
      emit(check)
  }

  emit(secretsCheck(resolved, options.env))
  emit(buildInputsCheck(resolved))
  for (const check of ruleChecks(resolved, detected?.kind ?? 'minikube')) emit(check)
  if (kube && reachable) {
    options.onStart?.(`checking: ${NODE_PORT_CHECK_TITLE}`)
    emit(await nodePortCheck(resolved, probes.clusterApi(kube)))
  } else emit(nodePortSkipped())

  const prerequisiteFailed = checks.some((check) => check.id.startsWith('prereq.') && check.status === 'fail')
  const configFailed = checks.some((check) => !check.id.startsWith('prereq.') && check.status === 'fail')
  return {
    checks,
    exitCode: configFailed ? ExitCode.BadInput : prerequisiteFailed ? ExitCode.Prerequisite : ExitCode.Ok,
  }
}

/** The same check as `up`'s preflight: each fixed nodePort free, or held by the release's own Service. */
async function nodePortCheck(
  resolved: ResolvedConfig,
  api: Pick<ClusterApi, 'nodePortHolders'>,
): Promise<DoctorCheck> {
  const base = {id: NODE_PORT_RULE_ID, check: NODE_PORT_CHECK_TITLE}
  let verdict: NodePortVerdict
  try {
    verdict = await checkNodePorts(resolved, api)
  } catch (error) {
    return failed(NODE_PORT_RULE_ID, NODE_PORT_CHECK_TITLE, error)
  }
  const ports = (list: FixedNodePort[]): string =>
    list.map((port) => `${port.serviceName} ${port.nodePort}`).join(', ')
  switch (verdict.kind) {
    case 'none':
      return {...base, status: 'pass', detail: 'no fixed nodePort: the cluster picks them', fix: null}
    case 'free':
      return {
        ...base,
        status: 'pass',
        detail: `free or already this release's: ${ports(verdict.ports)}`,
        fix: null,
      }
    case 'unknown':
      return {
        ...base,
        status: 'warn',
        detail: `cannot tell: the kube context may not list Services in every namespace (${ports(verdict.ports)})`,
        fix: 'ask for `list services` across namespaces, or check `kubectl get svc -A` yourself',
      }
    case 'taken':
      return {
        ...base,
        status: 'fail',
        detail: verdict.conflicts.map(describeConflict).join('; '),
        fix: conflictFix(verdict.conflicts),
      }
  }
}

function nodePortSkipped(): DoctorCheck {
  return {
    id: NODE_PORT_RULE_ID,
    check: NODE_PORT_CHECK_TITLE,
    status: 'warn',
    detail: 'skipped: the cluster is not reachable',
    fix: 'fix the cluster first',
  }
}

function failed(id: string, check: string, error: unknown): DoctorCheck {
  if (isTodoDeployError(error)) {
    const detail = [error.message, ...error.details].join('; ')
    return {id, check, status: 'fail', detail, fix: error.fix ?? null}
  }
  return {
    id,
    check,
    status: 'fail',
    detail: error instanceof Error ? error.message : String(error),
    fix: null,
  }
}

/** `prereq.registry` (the API answers) and `prereq.registry-auth` (it takes the Docker config's login). */
async function registryChecks(
  probes: PreflightProbes,
  url: string,
  insecure: boolean,
): Promise<DoctorCheck[]> {
  const address = parseRegistryUrl(url, insecure)
  const reachable = {id: 'prereq.registry', check: `registry ${address.host} reachable`}
  const auth = {id: 'prereq.registry-auth', check: `registry ${address.host} accepts the Docker login`}
  let probe: RegistryProbe
  try {
    probe = await probes.registry(address)
  } catch (error) {
    if (error instanceof RegistryRefusedError) {
      return [
        {
          ...reachable,
          status: 'pass',
          detail: `the registry API answers at ${registryApiBase(address)}`,
          fix: null,
        },
        failed(auth.id, auth.check, error),
      ]
    }
    return [
      failed(reachable.id, reachable.check, error),
      {
        ...auth,
        status: 'fail',
        detail: 'skipped: the registry is not reachable',
        fix: 'fix the registry address first',
      },
    ]
  }
  const login =
    probe.access.login === 'credentials'
      ? `the credentials from ${probe.credentialSource ?? 'the Docker config'} are accepted`
      : probe.credentialSource === null
        ? 'the registry lets clients in without a login (none is in the Docker config)'
        : 'the registry asks for no login'
  return [
    {...reachable, status: 'pass', detail: `the registry API answers at ${probe.access.url}`, fix: null},
    {...auth, status: 'pass', detail: login, fix: null},
  ]
}

/** The build contexts and Dockerfiles `up` builds from: folders and files inside the project. */
function buildInputsCheck(resolved: ResolvedConfig): DoctorCheck {
  const base = {id: 'config.build-inputs', check: 'build contexts and Dockerfiles exist'}
  const problems = findBuildInputProblems(resolved)
  if (problems.length === 0)
    return {
      ...base,
      status: 'pass',
      detail: 'every enabled service has its context folder and Dockerfile',
      fix: null,
    }
  return {
    ...base,
    status: 'fail',
    detail: problems.map((problem) => `${problem.where} ${problem.keyPath}: ${problem.message}`).join('; '),
    fix: [...new Set(problems.map((problem) => problem.fix))].join('; '),
  }
}

function secretsCheck(resolved: ResolvedConfig, env: NodeJS.ProcessEnv | undefined): DoctorCheck {
  const check = 'secrets present'
  const names = requiredSecretNames(resolved)
  try {
    const resolution = resolveSecrets(resolved, env)
    if (resolution.missing.length === 0) {
      return {
        id: 'secrets.present',
        check,
        status: 'pass',
        detail: `${names.length} set: ${names.join(', ')}`,
        fix: null,
      }
    }
    const envFile = path.relative(process.cwd(), resolved.envFile) || resolved.envFile
    return {
      id: 'secrets.present',
      check,
      status: 'fail',
      detail: `missing: ${resolution.missing.join(', ')}`,
      fix: `set them in the environment or in ${envFile} (git-ignored)`,
    }
  } catch (error) {
    return failed('secrets.present', check, error)
  }
}

function ruleChecks(resolved: ResolvedConfig, clusterKind: string): DoctorCheck[] {
  const findings: (RuleViolation | ConfigRuleViolation)[] = [...checkConfigRules(resolved, clusterKind)]
  for (const name of SERVICE_NAMES) {
    if (!resolved.config.services[name].enabled) continue
    const dockerfile = resolved.services[name].dockerfile
    findings.push(
      ...readAndCheck(dockerfile, 'image.multi-stage', (text) =>
        checkDockerfile(text, {path: displayPath(dockerfile)}),
      ),
    )
  }
  const chartYaml = path.join(resolved.chartDir, 'Chart.yaml')
  findings.push(
    ...readAndCheck(chartYaml, 'chart.fields', (text) =>
      checkChartYaml(text, {path: displayPath(chartYaml)}),
    ),
  )
  const secretKeyNames = requiredSecretNames(resolved)
  for (const file of [...resolved.valuesFiles, ...(resolved.configFile ? [resolved.configFile] : [])]) {
    findings.push(
      ...readAndCheck(file, 'secrets.plain-text', (text) =>
        scanForSecrets(text, {file: displayPath(file), secretKeyNames}),
      ),
    )
  }

  // One pull-policy rule applies: Never for loaded images, IfNotPresent for images from registry.url.
  const rules = STATIC_RULES.map((id) =>
    id === 'k8s.pull-policy.never' && resolved.config.registry.url !== null ? 'k8s.pull-policy.registry' : id,
  )
  return rules.map((id) => {
    const mine = findings.filter((finding) => finding.id === id)
    const status: CheckStatus = mine.some((f) => f.severity === 'error')
      ? 'fail'
      : mine.length > 0
        ? 'warn'
        : 'pass'
    return {
      id,
      check: RULES[id].title,
      status,
      detail: mine.length === 0 ? RULES[id].description : mine.map(describeFinding).join('; '),
      fix: mine.length === 0 ? null : [...new Set(mine.map((finding) => finding.fix))].join('; '),
    }
  })
}

function describeFinding(finding: RuleViolation | ConfigRuleViolation): string {
  if ('keyPath' in finding && finding.keyPath)
    return `${finding.where ?? '(built-in default)'} ${finding.keyPath}: ${finding.message}`
  return `${finding.object} ${finding.field}: ${finding.message}`
}

function readAndCheck(file: string, id: RuleId, check: (text: string) => RuleViolation[]): RuleViolation[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return [
      {
        id,
        severity: 'error',
        object: displayPath(file),
        field: '',
        message: 'cannot be read',
        fix: `check that ${displayPath(file)} exists`,
      },
    ]
  }
  return check(text)
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file)
  return relative.startsWith('..') ? file : relative
}
