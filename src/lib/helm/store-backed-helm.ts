import type * as client from './helm-client.js'
import type {HelmReleaseReader} from './release-store.js'

/**
 * A HelmClient whose release reads (status, history, the values of a revision) come from helm's own
 * storage through the API server, and whose changes and renders stay with the helm binary: helm alone
 * writes release records, so nothing here can disagree with it. `get values --all` (the chart's
 * defaults merged in) is helm's to compute.
 */
export class StoreBackedHelm implements client.HelmClient {
  constructor(
    private readonly reads: HelmReleaseReader,
    private readonly helm: client.HelmClient,
  ) {}

  version(): Promise<client.HelmVersion> {
    return this.helm.version()
  }

  upgradeInstall(request: client.UpgradeInstallRequest): Promise<{revision?: number}> {
    return this.helm.upgradeInstall(request)
  }

  status(release: string, namespace: string): Promise<client.ReleaseInfo | null> {
    return this.reads.status(release, namespace)
  }

  history(release: string, namespace: string): Promise<client.ReleaseRevision[]> {
    return this.reads.history(release, namespace)
  }

  getValues(
    release: string,
    namespace: string,
    options: client.GetValuesOptions = {},
  ): Promise<Record<string, unknown>> {
    if (options.all) return this.helm.getValues(release, namespace, options)
    return this.reads.getValues(release, namespace, options.revision)
  }

  rollback(
    release: string,
    revision: number,
    namespace: string,
    options?: {signal?: AbortSignal},
  ): Promise<void> {
    return this.helm.rollback(release, revision, namespace, options)
  }

  uninstall(
    release: string,
    namespace: string,
    options?: {signal?: AbortSignal},
  ): Promise<{existed: boolean}> {
    return this.helm.uninstall(release, namespace, options)
  }

  template(values: client.ReleaseValues): Promise<string> {
    return this.helm.template(values)
  }

  lint(chart: string, valuesFiles: string[]): Promise<client.LintResult> {
    return this.helm.lint(chart, valuesFiles)
  }
}
