/**
 * What the rest of the CLI needs from helm. `HelmCli` (helm-cli.ts) is the real implementation; the
 * lifecycle tests pass a double.
 */

/** Every status helm 3 and 4 write into a release revision. */
export const RELEASE_STATUSES = [
  'unknown',
  'deployed',
  'uninstalled',
  'superseded',
  'failed',
  'uninstalling',
  'pending-install',
  'pending-upgrade',
  'pending-rollback',
] as const
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number]

export interface HelmVersion {
  /** As helm prints it, e.g. `v3.17.2+gcc0bbbd`. */
  version: string
  major: 3 | 4
}

/** One row of `helm history -o json`. */
export interface ReleaseRevision {
  revision: number
  updated: Date
  status: ReleaseStatus
  /** `<chart name>-<chart version>`, e.g. `todo-chatbot-chart-1.0.0` (see parseChartRef). */
  chart: string
  appVersion: string
  description: string
}

/** `helm status -o json`: the newest revision of a release. */
export interface ReleaseInfo {
  name: string
  namespace: string
  revision: number
  status: ReleaseStatus
  description: string
  firstDeployed?: Date
  lastDeployed?: Date
  /** The values given to this revision (`--set-string`, `-f`), without the chart's defaults. */
  config: Record<string, unknown>
  /** The rendered manifests (multi-document YAML); empty when helm leaves it out. */
  manifest: string
}

/** The chart and the values one render or deploy uses. */
export interface ReleaseValues {
  release: string
  /** A chart folder, a packaged chart or a repo reference. */
  chart: string
  namespace: string
  /** `-f` files, in order: later files win. */
  valuesFiles: string[]
  /**
   * `--set-string` values, e.g. `{'backend.image.tag': '3f9c…', 'backend.secretChecksum': 'sha256:…'}`.
   * Secret VALUES must never come here: helm stores every value in its release history. The CLI applies
   * the Kubernetes Secret itself and passes only a checksum of it (docs/data-model.md). Keys under `secrets.` are
   * masked in logs and error messages all the same, in case one slips through.
   */
  setString: Record<string, string>
  /** The user's own `--set k=v` flags, passed through as given. */
  set?: string[]
}

export interface UpgradeInstallRequest extends ReleaseValues {
  /** `--history-max`: keeps helm's release history bounded (helm #9304). */
  historyMax: number
  signal?: AbortSignal
  /** Each line helm prints, as it arrives. */
  onLine?: (line: string) => void
}

export interface GetValuesOptions {
  /** `--all`: the computed values (chart defaults merged), not only the supplied ones. */
  all?: boolean
  revision?: number
}

export interface LintMessage {
  severity: 'info' | 'warning' | 'error'
  text: string
}

export interface LintResult {
  ok: boolean
  messages: LintMessage[]
}

export interface HelmClient {
  version(): Promise<HelmVersion>
  /** `helm upgrade --install` without `--wait`: the CLI follows the rollout itself. */
  upgradeInstall(request: UpgradeInstallRequest): Promise<{revision?: number}>
  /** null when the release does not exist. */
  status(release: string, namespace: string): Promise<ReleaseInfo | null>
  /** Oldest first; [] when the release does not exist. */
  history(release: string, namespace: string): Promise<ReleaseRevision[]>
  getValues(release: string, namespace: string, options?: GetValuesOptions): Promise<Record<string, unknown>>
  rollback(
    release: string,
    revision: number,
    namespace: string,
    options?: {signal?: AbortSignal},
  ): Promise<void>
  uninstall(release: string, namespace: string, options?: {signal?: AbortSignal}): Promise<{existed: boolean}>
  /** The rendered multi-document YAML (`--dry-run`, rule checks). Touches no cluster. */
  template(values: ReleaseValues): Promise<string>
  lint(chart: string, valuesFiles: string[]): Promise<LintResult>
}
