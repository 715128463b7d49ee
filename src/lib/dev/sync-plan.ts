import path from 'node:path'

import type {ResolvedConfig} from '../config/load.js'
import type {ServiceName} from '../config/schema.js'
import {containerPathOf, rebuildReason} from '../config/sync-rules.js'
import {type ChangeSet, isEmptyChangeSet} from './change-set.js'

/** One service's changed files, all covered by its sync rules: copied into its pods, no rebuild. */
export interface ServiceSyncChange {
  service: ServiceName
  /** Context-relative POSIX paths, as the watcher reported them. */
  paths: readonly string[]
}

/** Why a service's change goes to a rebuild although it has sync rules. */
export interface RebuildReason {
  service: ServiceName
  reason: string
}

/** A change set split into what is synced and what is rebuilt (by `up`, as before live sync). */
export interface SyncPlan {
  sync: ServiceSyncChange[]
  /** The rest, for one recomputed `up`; undefined when everything is synced. */
  rebuild: ChangeSet | undefined
  /** Services with sync rules that are rebuilt anyway, and why (shown to the user). */
  reasons: RebuildReason[]
}

/**
 * Splits a change set: a service's change is synced when every changed path is covered by one of its
 * rules and none defines the image or its dependencies (Dockerfile, .dockerignore, package.json, a
 * lock file, requirements.txt: a running process cannot take those). A new configuration, chart,
 * `.env` or `r` recomputes everything, as before. `canSync` says whether a service runs an image
 * synced files can go into (one this dev session deployed).
 */
export function planSync(
  changes: ChangeSet,
  resolved: ResolvedConfig,
  canSync: (service: ServiceName) => boolean,
): SyncPlan {
  if (changes.config || changes.chart || changes.env || changes.manual)
    return {sync: [], rebuild: changes, reasons: []}
  const sync: ServiceSyncChange[] = []
  const reasons: RebuildReason[] = []
  const rebuilt: ChangeSet['services'][number][] = []
  for (const change of changes.services) {
    const rules = resolved.services[change.service].sync
    const reason =
      rules.length === 0
        ? undefined
        : !canSync(change.service)
          ? 'its pods do not run an image this dev session deployed'
          : change.paths.length === 0
            ? 'a restarted pod could not be given the synced files again'
            : rebuildReasonOf(
                change.paths,
                dockerfileOf(resolved, change.service),
                (relative) => containerPathOf(rules, relative) !== undefined,
              )
    if (rules.length > 0 && reason === undefined) sync.push({service: change.service, paths: change.paths})
    else {
      if (reason !== undefined) reasons.push({service: change.service, reason})
      rebuilt.push(change)
    }
  }
  const rest: ChangeSet = {...changes, services: rebuilt}
  return {sync, rebuild: isEmptyChangeSet(rest) ? undefined : rest, reasons}
}

/** The Dockerfile's path relative to the context, as the watcher reports it. */
function dockerfileOf(resolved: ResolvedConfig, service: ServiceName): string {
  const {contextDir, dockerfile} = resolved.services[service]
  return path.relative(contextDir, dockerfile).split(path.sep).join('/')
}

function rebuildReasonOf(
  paths: readonly string[],
  dockerfile: string,
  covered: (relative: string) => boolean,
): string | undefined {
  for (const relative of paths) {
    if (relative === dockerfile) return `${relative} changed (it defines the image)`
    // The Dockerfile outside the context (the bundled ones) is reported by its path from the context.
    if (relative.startsWith('../')) return `${relative.split('/').at(-1) ?? relative} changed`
    const reason = rebuildReason(relative)
    if (reason !== undefined) return reason
  }
  const uncovered = paths.find((relative) => !covered(relative))
  return uncovered === undefined ? undefined : `${uncovered} is outside the sync rules`
}
