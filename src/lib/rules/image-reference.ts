import type {RuleViolation} from './catalogue.js'

export interface ImageReference {
  registry?: string
  /** Repository path without the registry, e.g. `todo-frontend` or `library/node`. */
  name: string
  tag?: string
  digest?: string
}

/** Splits `[registry/]name[:tag][@digest]` the way Docker does (a first segment with `.`/`:` or `localhost` is a registry). */
export function parseImageReference(ref: string): ImageReference {
  const [withoutDigest = '', digest] = ref.split('@', 2)
  const segments = withoutDigest.split('/')
  let registry: string | undefined
  const first = segments[0] ?? ''
  if (segments.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first
    segments.shift()
  }
  let path = segments.join('/')
  let tag: string | undefined
  const colon = path.lastIndexOf(':')
  if (colon >= 0) {
    tag = path.slice(colon + 1)
    path = path.slice(0, colon)
  }
  return {registry, name: path, tag, digest}
}

const NAME_SEGMENT = /^[a-z0-9-]+$/
const TAG = /^[a-z0-9.-]+$/

/** Rule image.name-pattern (docs/data-model.md): `[registry/]<name>:<tag>`, name [a-z0-9-]+, tag [a-z0-9.-]+. */
export function checkImageReference(ref: string): RuleViolation[] {
  const violation = (severity: RuleViolation['severity'], message: string, fix: string): RuleViolation => ({
    id: 'image.name-pattern',
    severity,
    object: `image ${ref}`,
    field: 'image',
    message,
    fix,
  })
  const parsed = parseImageReference(ref.trim())
  const problems: RuleViolation[] = []
  if (/[A-Z]/.test(parsed.name) || (parsed.tag !== undefined && /[A-Z]/.test(parsed.tag))) {
    problems.push(
      violation(
        'error',
        `image reference "${ref}" has uppercase letters`,
        `use lowercase: ${ref.toLowerCase()}`,
      ),
    )
    return problems
  }
  if (parsed.name === '' || !parsed.name.split('/').every((segment) => NAME_SEGMENT.test(segment))) {
    problems.push(
      violation(
        'error',
        `image name "${parsed.name}" does not match [a-z0-9-]+`,
        'use lowercase letters, digits and dashes, e.g. todo-frontend',
      ),
    )
  }
  if (parsed.digest !== undefined) {
    if (!/^sha256:[a-f0-9]{64}$/.test(parsed.digest))
      problems.push(
        violation(
          'error',
          `digest "${parsed.digest}" is not sha256:<64 hex>`,
          'copy the digest from `docker images --digests`',
        ),
      )
    return problems
  }
  if (parsed.tag === undefined || parsed.tag === '') {
    problems.push(
      violation(
        'error',
        `image "${ref}" has no tag (Docker would assume :latest)`,
        `add an explicit tag, e.g. ${parsed.name}:1.0.0`,
      ),
    )
  } else if (!TAG.test(parsed.tag)) {
    problems.push(
      violation(
        'error',
        `tag "${parsed.tag}" does not match [a-z0-9.-]+`,
        'use a SemVer, sha-<git sha> or content tag',
      ),
    )
  } else if (parsed.tag === 'latest') {
    problems.push(
      violation(
        'warn',
        `image "${ref}" uses the tag latest: a rollback cannot bring old code back and an upgrade restarts nothing`,
        'deploy with an immutable tag (todo-deploy up tags images by content)',
      ),
    )
  }
  return problems
}

/** Rule image.size: the image is under its target (decimal MB, as `docker images` prints). */
export function checkImageSize(
  bytes: number,
  targetMB: number,
  options: {image?: string} = {},
): RuleViolation[] {
  const sizeMB = bytes / 1_000_000
  if (sizeMB < targetMB) return []
  return [
    {
      id: 'image.size',
      severity: 'warn',
      object: options.image ? `image ${options.image}` : 'image',
      field: 'size',
      message: `image is ${sizeMB.toFixed(1)} MB, target is under ${targetMB} MB`,
      fix: 'keep build tools in the builder stage, copy only production dependencies, and check .dockerignore',
    },
  ]
}
