import {z} from 'zod'

import {ExitCode, PrerequisiteError, TodoDeployError} from '../errors.js'
import {PARSE_ONCE} from '../parse-once.js'
import {
  RELEASE_STATUSES,
  type HelmVersion,
  type LintMessage,
  type ReleaseInfo,
  type ReleaseRevision,
  type ReleaseStatus,
} from './helm-client.js'

/** Parsers for what helm 3 and 4 print (`-o json` has the same shape in both). */

const MINIMUM = {major: 3, minor: 8}

/** `v3.17.2+gcc0bbbd` -> {version, major}; helm older than 3.8 (or not 3/4) is refused. */
export function parseHelmVersion(output: string): HelmVersion {
  const version = output.trim().split(/\s+/)[0] ?? ''
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version)
  if (!match) {
    throw new TodoDeployError(
      ExitCode.Prerequisite,
      `could not read helm's version from \`helm version --short\`: "${output.trim()}"`,
      {
        fix: 'check that the helm on PATH is the real helm: run `helm version --short`',
      },
    )
  }
  const major = Number(match[1])
  const minor = Number(match[2])
  if (major === 4 || (major === 3 && minor >= MINIMUM.minor)) return {version, major}
  throw new PrerequisiteError(`helm 3.8+ or 4.x required, found ${version}`, {
    where: 'helm on PATH',
    fix: 'install helm 3.8+ or 4.x: https://helm.sh/docs/intro/install/',
  })
}

const helmStatus = z
  .string()
  .transform((status): ReleaseStatus => (isReleaseStatus(status) ? status : 'unknown'))

function isReleaseStatus(status: string): status is ReleaseStatus {
  return (RELEASE_STATUSES as readonly string[]).includes(status)
}

const optionalDate = z
  .string()
  .optional()
  .transform((text) => (text ? new Date(text) : undefined))

const historySchema = z.array(
  z.object({
    revision: z.number().int(),
    updated: z.string().transform((text) => new Date(text)),
    status: helmStatus,
    chart: z.string(),
    app_version: z.string().default(''),
    description: z.string().default(''),
  }),
)

/**
 * A release as helm keeps it: what `helm status -o json` prints, and what helm's storage holds per
 * revision (release-store.ts). The chart is only `null` in records helm itself calls broken (helm #1347).
 */
export const releaseSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  version: z.number().int(),
  info: z.object({
    status: helmStatus,
    description: z.string().default(''),
    first_deployed: optionalDate,
    last_deployed: optionalDate,
  }),
  chart: z
    .object({
      metadata: z
        .object({name: z.string(), version: z.string(), appVersion: z.string().default('')})
        .nullish(),
    })
    .nullish(),
  config: z.record(z.string(), z.unknown()).nullish(),
  manifest: z.string().default(''),
})
export type HelmRelease = z.output<typeof releaseSchema>

const valuesSchema = z.record(z.string(), z.unknown()).nullable()

/** `helm history -o json`, oldest revision first. */
export function parseHistory(json: string): ReleaseRevision[] {
  return parseJson(json, historySchema, 'helm history')
    .map((row) => ({
      revision: row.revision,
      updated: row.updated,
      status: row.status,
      chart: row.chart,
      appVersion: row.app_version,
      description: row.description,
    }))
    .sort((a, b) => a.revision - b.revision)
}

/** `helm status -o json`. */
export function parseStatus(json: string): ReleaseInfo {
  return releaseInfoOf(parseJson(json, releaseSchema, 'helm status'))
}

export function releaseInfoOf(release: HelmRelease): ReleaseInfo {
  return {
    name: release.name,
    namespace: release.namespace,
    revision: release.version,
    status: release.info.status,
    description: release.info.description,
    firstDeployed: release.info.first_deployed,
    lastDeployed: release.info.last_deployed,
    config: release.config ?? {},
    manifest: release.manifest,
  }
}

/** The row `helm history` prints for one revision: helm names a chart without metadata `MISSING`. */
export function revisionOf(release: HelmRelease): ReleaseRevision {
  const metadata = release.chart?.metadata
  return {
    revision: release.version,
    updated: release.info.last_deployed ?? new Date(Number.NaN),
    status: release.info.status,
    chart: metadata ? `${metadata.name}-${metadata.version}` : 'MISSING',
    appVersion: metadata ? metadata.appVersion : 'MISSING',
    description: release.info.description,
  }
}

/** `helm get values -o json`: helm prints `null` when no values were supplied. */
export function parseValues(json: string): Record<string, unknown> {
  return parseJson(json, valuesSchema, 'helm get values') ?? {}
}

/** The `REVISION: N` line `helm upgrade --install` prints on success. */
export function parseUpgradeRevision(stdout: string): number | undefined {
  const match = /^REVISION:\s*(\d+)\s*$/m.exec(stdout)
  return match ? Number(match[1]) : undefined
}

const LINT_SEVERITY: Record<string, LintMessage['severity']> = {
  INFO: 'info',
  WARNING: 'warning',
  ERROR: 'error',
}

/**
 * `helm lint` output: `[SEVERITY] text` lines, tab-indented continuation lines, and `Error …` lines for
 * failures outside the chart's files (a missing values file). The closing `N chart(s) linted` summary is dropped.
 */
export function parseLintOutput(output: string): LintMessage[] {
  const messages: LintMessage[] = []
  for (const line of output.split('\n')) {
    const tagged = /^\[(INFO|WARNING|ERROR)\]\s*(.*)$/.exec(line)
    const last = messages.at(-1)
    if (tagged) {
      messages.push({severity: LINT_SEVERITY[tagged[1] ?? 'ERROR'] ?? 'error', text: tagged[2]?.trim() ?? ''})
    } else if (/^\t/.test(line) && last) {
      last.text = `${last.text} ${line.trim()}`
    } else if (/^Error:?\s/.test(line) && !/chart\(s\) linted/.test(line)) {
      messages.push({severity: 'error', text: line.replace(/^Error:?\s*/, '').trim()})
    }
  }
  return messages
}

function parseJson<T extends z.ZodType>(json: string, schema: T, command: string): z.output<T> {
  let data: unknown
  try {
    data = JSON.parse(json)
  } catch (error) {
    throw unreadable(command, error)
  }
  const result = schema.safeParse(data, PARSE_ONCE)
  if (!result.success) throw unreadable(command, result.error)
  return result.data
}

function unreadable(command: string, cause: unknown): TodoDeployError {
  // The output itself is not quoted: `status` and `get values` output holds the release's values.
  return new TodoDeployError(ExitCode.Unexpected, `could not read the JSON that \`${command}\` printed`, {
    fix: `run \`${command} -o json\` yourself to see it; if helm works, report this with \`helm version --short\``,
    details: [cause instanceof Error ? cause.message : String(cause)],
    cause,
  })
}
