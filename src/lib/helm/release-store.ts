import {gunzipSync} from 'node:zlib'

import type {V1Secret} from '@kubernetes/client-node'

import {ExitCode, TodoDeployError} from '../errors.js'
import {PARSE_ONCE} from '../parse-once.js'
import type {KubeConnection} from '../kube/kube-connection.js'
import type {ReleaseInfo, ReleaseRevision} from './helm-client.js'
import {missingRelease} from './helm-errors.js'
import {releaseInfoOf, releaseSchema, revisionOf, type HelmRelease} from './helm-output.js'

/**
 * helm's release history read straight from where helm 3 and 4 keep it by default (the `secret`
 * storage driver): one Secret per revision, `sh.helm.release.v1.<release>.v<revision>`, labelled
 * `owner=helm,name=<release>`, whose `release` key holds the release record as base64 of gzipped JSON.
 * One list call answers what `helm status`, `helm history` and `helm get values` would, without
 * starting helm (each helm process costs about a tenth of a second and tens of MiB).
 */
export interface HelmReleaseReader {
  /** The newest revision (`helm status`); null when the release does not exist. */
  status(release: string, namespace: string): Promise<ReleaseInfo | null>
  /** Oldest first (`helm history`); [] when the release does not exist. */
  history(release: string, namespace: string): Promise<ReleaseRevision[]>
  /** The values given to one revision, the newest by default (`helm get values [--revision N]`). */
  getValues(release: string, namespace: string, revision?: number): Promise<Record<string, unknown>>
}

/** gzip's magic bytes: helm stored records uncompressed before 3.0's compression, and still reads those. */
const GZIP_MAGIC = [0x1f, 0x8b, 0x08]

export class HelmReleaseStore implements HelmReleaseReader {
  /** Reads of one release that overlap (status and history together) share one list call. */
  readonly #inFlight = new Map<string, Promise<HelmRelease[]>>()

  constructor(private readonly kube: KubeConnection) {}

  async status(release: string, namespace: string): Promise<ReleaseInfo | null> {
    const newest = (await this.revisions(release, namespace)).at(-1)
    return newest ? releaseInfoOf(newest) : null
  }

  async history(release: string, namespace: string): Promise<ReleaseRevision[]> {
    return (await this.revisions(release, namespace)).map(revisionOf)
  }

  async getValues(release: string, namespace: string, revision?: number): Promise<Record<string, unknown>> {
    const revisions = await this.revisions(release, namespace)
    const found =
      revision === undefined ? revisions.at(-1) : revisions.find((entry) => entry.version === revision)
    if (!found) throw missingRelease(release, namespace)
    return found.config ?? {}
  }

  /** Every stored revision of the release, oldest first. */
  private revisions(release: string, namespace: string): Promise<HelmRelease[]> {
    const key = `${namespace}/${release}`
    const pending = this.#inFlight.get(key)
    if (pending) return pending
    const read = this.read(release, namespace).finally(() => this.#inFlight.delete(key))
    this.#inFlight.set(key, read)
    return read
  }

  private async read(release: string, namespace: string): Promise<HelmRelease[]> {
    const list = await this.kube.call({verb: 'list', resource: 'secrets', namespace}, () =>
      this.kube.core.listNamespacedSecret({namespace, labelSelector: `owner=helm,name=${release}`}),
    )
    return list.items
      .map((secret) => decodeReleaseSecret(secret, release, namespace))
      .sort((a, b) => a.version - b.version)
  }
}

/**
 * The release record of one storage Secret. A record that cannot be read is an error naming the Secret
 * (helm itself skips it, which would make `status` report an older revision as the current one); the
 * record's content is never quoted, as it holds the release's values.
 */
export function decodeReleaseSecret(secret: V1Secret, release: string, namespace: string): HelmRelease {
  const name = secret.metadata?.name ?? `revision ${secret.metadata?.labels?.version ?? '?'}`
  try {
    const stored = secret.data?.release
    if (stored === undefined) throw new Error('the Secret has no `release` key')
    // The API's base64 gives helm's text, itself base64 of the (usually gzipped) JSON.
    const bytes = Buffer.from(Buffer.from(stored, 'base64').toString('latin1'), 'base64')
    const json = GZIP_MAGIC.every((byte, index) => bytes[index] === byte) ? gunzipSync(bytes) : bytes
    const parsed = releaseSchema.safeParse(JSON.parse(json.toString('utf8')), PARSE_ONCE)
    if (!parsed.success) throw new Error(`unexpected record shape: ${parsed.error.issues[0]?.message ?? ''}`)
    return parsed.data
  } catch (error) {
    throw new TodoDeployError(
      ExitCode.Unexpected,
      `could not read helm's record of release "${release}" from Secret ${name}`,
      {
        where: `Secret ${name} in namespace ${namespace}`,
        fix:
          `run \`helm history ${release} -n ${namespace}\`: if helm lists every revision, report this with ` +
          `\`helm version --short\`; if not, the record is damaged: delete that Secret ` +
          `(\`kubectl -n ${namespace} delete secret ${name}\`) and run \`todo-deploy up\``,
        details: [error instanceof Error ? error.message : String(error)],
        cause: error,
      },
    )
  }
}

/**
 * Whether helm keeps releases where HelmReleaseStore reads them: `HELM_DRIVER` unset, empty, `secret` or
 * `secrets` (helm's default). With `configmap`, `sql` or `memory`, releases are read through helm itself.
 */
export function usesSecretsDriver(env: NodeJS.ProcessEnv): boolean {
  const driver = env.HELM_DRIVER ?? ''
  return driver === '' || driver === 'secret' || driver === 'secrets'
}
