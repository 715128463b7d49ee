import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {DEPLOY_DIGEST_KEY, IMAGE_REPOSITORY_KEY, IMAGE_TAG_KEY} from './chart-values.js'

/** The image tags a revision's values hold (`<service>.image.tag`), as `up` passed them. */
export function imageTagsOf(
  values: Record<string, unknown> | null | undefined,
): Partial<Record<ServiceName, string>> {
  return perService(values, IMAGE_TAG_KEY)
}

/**
 * The image repositories a revision's values name (`<service>.image.repository`), as that revision's
 * configuration wrote them: under the registry it pushed to then, or bare for loaded images.
 */
export function imageRepositoriesOf(
  values: Record<string, unknown> | null | undefined,
): Partial<Record<ServiceName, string>> {
  return perService(values, IMAGE_REPOSITORY_KEY)
}

/** Each service's non-empty string at `key(service)` in the values. */
function perService(
  values: Record<string, unknown> | null | undefined,
  key: (service: ServiceName) => string,
): Partial<Record<ServiceName, string>> {
  const found: Partial<Record<ServiceName, string>> = {}
  if (!values) return found
  for (const service of SERVICE_NAMES) {
    const value = valueAt(values, key(service))
    if (typeof value === 'string' && value !== '') found[service] = value
  }
  return found
}

/** The deploy digest `up` stored in the release's values, if any. */
export function deployDigestOf(values: Record<string, unknown> | null | undefined): string | undefined {
  const digest = values ? valueAt(values, DEPLOY_DIGEST_KEY) : undefined
  return typeof digest === 'string' ? digest : undefined
}

function valueAt(values: Record<string, unknown>, dotted: string): unknown {
  let level: unknown = values
  for (const key of dotted.split('.')) {
    if (!level || typeof level !== 'object') return undefined
    level = (level as Record<string, unknown>)[key]
  }
  return level
}
