import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {DEPLOY_DIGEST_KEY, IMAGE_TAG_KEY} from './chart-values.js'

/** The image tags a revision's values hold (`<service>.image.tag`), as `up` passed them. */
export function imageTagsOf(
  values: Record<string, unknown> | null | undefined,
): Partial<Record<ServiceName, string>> {
  const tags: Partial<Record<ServiceName, string>> = {}
  if (!values) return tags
  for (const service of SERVICE_NAMES) {
    const tag = valueAt(values, IMAGE_TAG_KEY(service))
    if (typeof tag === 'string' && tag !== '') tags[service] = tag
  }
  return tags
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
