import path from 'node:path'

import type {ServiceName} from './schema.js'

/**
 * One live-sync rule of `dev`, normalized: `from` is a POSIX path relative to the build context ('' for
 * the whole context), `to` an absolute container path without a trailing slash. See docs/live-sync.md.
 */
export interface SyncRule {
  from: string
  to: string
}

/**
 * The rules for the bundled Dockerfiles (docker/*.Dockerfile), whose dev stages hold the sources in
 * /app: the whole FastAPI context (uvicorn --reload picks up any .py), and the Next.js source folders
 * `next dev` compiles on request. Anything else (next.config.*, package.json, ...) rebuilds.
 */
export const BUNDLED_SYNC_RULES: Record<ServiceName, readonly SyncRule[]> = {
  frontend: ['app', 'pages', 'components', 'public', 'src', 'lib', 'styles'].map((folder) => ({
    from: folder,
    to: `/app/${folder}`,
  })),
  backend: [{from: '', to: '/app'}],
}

/**
 * Files whose change a running process cannot take: the image is rebuilt whatever the rules say (the
 * dependencies are installed, or the image defined, from them).
 */
const REBUILD_FILES = new Set([
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'requirements.txt',
  'pyproject.toml',
  'poetry.lock',
  'Pipfile',
  'Pipfile.lock',
])

/** Why a change of this context-relative path needs a rebuild, or undefined when it may be synced. */
export function rebuildReason(relative: string): string | undefined {
  const name = path.posix.basename(relative)
  if (REBUILD_FILES.has(name) || /^Dockerfile\./.test(name) || /\.Dockerfile$/.test(name))
    return `${relative} changed (it defines the image or its dependencies)`
  return undefined
}

/** `./www/` → `www`, `.` → '': the form rules are matched in. */
export function normalizeFrom(from: string): string {
  const normalized = path.posix.normalize(from.split(path.sep).join('/')).replace(/\/+$/, '')
  return normalized === '.' ? '' : normalized
}

/** `/www/` → `/www`. */
export function normalizeTo(to: string): string {
  return path.posix.normalize(to).replace(/(.)\/+$/, '$1')
}

/**
 * The container path of a context-relative file: the rule with the longest `from` that covers it maps
 * it (`from` onto `to`, the rest of the path kept); undefined when no rule covers it.
 */
export function containerPathOf(rules: readonly SyncRule[], relative: string): string | undefined {
  let best: SyncRule | undefined
  for (const rule of rules) {
    const covers = rule.from === '' || relative === rule.from || relative.startsWith(`${rule.from}/`)
    if (covers && (best === undefined || rule.from.length > best.from.length)) best = rule
  }
  if (best === undefined) return undefined
  const rest = best.from === '' ? relative : relative.slice(best.from.length).replace(/^\//, '')
  return rest === '' ? best.to : path.posix.join(best.to, rest)
}
