import {gunzipSync} from 'node:zlib'

/**
 * Where a secret value shows up in some text: as typed, or base64-encoded (how Kubernetes Secrets and
 * Helm's release records carry data). Returns the secret NAMES found, never the values.
 */
export function leakedSecretNames(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, value]) => text.includes(value) || text.includes(Buffer.from(value).toString('base64')))
    .map(([name]) => name)
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08])

/**
 * The JSON of one Helm release record kept in a `helm.sh/release.v1` Secret: Kubernetes base64 around
 * Helm's own base64 around gzip (older Helm wrote it without gzip). This is everything helm stores.
 */
export function helmReleaseRecord(secretData: string): string {
  const helmEncoded = Buffer.from(secretData, 'base64').toString('utf8')
  const raw = Buffer.from(helmEncoded, 'base64')
  return (raw.subarray(0, 3).equals(GZIP_MAGIC) ? gunzipSync(raw) : raw).toString('utf8')
}
