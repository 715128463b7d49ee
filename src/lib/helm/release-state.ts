import type {ReleaseRevision, ReleaseStatus} from './helm-client.js'

/** Reading a release's history: where it stands, and how to unlock a stuck (pending-*) one. */

export type ReleaseState = 'absent' | ReleaseStatus

export interface ReleaseInspection {
  /** The status of the newest revision; `absent` when there is no history. */
  state: ReleaseState
  /** The newest revision. */
  current?: ReleaseRevision
  /** The revision whose status is `deployed`: the one running, even while a newer one is pending or failed. */
  lastDeployed?: ReleaseRevision
}

export type PendingRecovery = {action: 'rollback'; revision: number} | {action: 'uninstall'}

const PENDING_STATES: ReadonlySet<ReleaseState> = new Set([
  'pending-install',
  'pending-upgrade',
  'pending-rollback',
])

export function isPending(state: ReleaseState): boolean {
  return PENDING_STATES.has(state)
}

export function inspectRelease(history: readonly ReleaseRevision[]): ReleaseInspection {
  const ordered = [...history].sort((a, b) => a.revision - b.revision)
  const current = ordered.at(-1)
  if (!current) return {state: 'absent'}
  const lastDeployed = ordered.findLast((revision) => revision.status === 'deployed')
  return {state: current.status, current, lastDeployed}
}

/**
 * How to unlock a release an interrupted helm left pending-* (helm refuses upgrades until then): roll
 * back to the last revision that deployed fine (helm 3 and 4 allow a rollback of a pending release), or
 * uninstall when none exists (a first install that never finished). A release stuck `uninstalling`
 * is uninstalled again. null when nothing is stuck.
 */
export function planPendingRecovery(inspection: ReleaseInspection): PendingRecovery | null {
  const {state, current, lastDeployed} = inspection
  if (state === 'uninstalling') return {action: 'uninstall'}
  if (!isPending(state) || !current) return null
  if (lastDeployed && lastDeployed.revision < current.revision)
    return {action: 'rollback', revision: lastDeployed.revision}
  return {action: 'uninstall'}
}

/**
 * helm writes `Upgrade "<release>" failed: …` (and `Install …` / `Rollback …` alike) into the description
 * of a revision that failed; it keeps status `failed`, but a later helm could supersede it.
 */
const FAILED_DESCRIPTION = /^(Install|Upgrade|Rollback)\b.*\bfailed\b/

/**
 * The revision `rollback` with no REVISION goes back to: the newest one older than `current` that
 * deployed successfully (status `superseded` or `deployed`), skipping failed and pending-* revisions
 * and those in `failedRollouts`: helm marks an upgrade whose pods then crashed as superseded like any
 * other once `up` rolled it back, so only the operation record knows it never ran.
 */
export function previousGoodRevision(
  history: readonly ReleaseRevision[],
  current: number,
  failedRollouts: ReadonlySet<number> = new Set(),
): ReleaseRevision | undefined {
  return [...history]
    .sort((a, b) => a.revision - b.revision)
    .findLast(
      (revision) =>
        revision.revision < current &&
        (revision.status === 'superseded' || revision.status === 'deployed') &&
        !FAILED_DESCRIPTION.test(revision.description) &&
        !failedRollouts.has(revision.revision),
    )
}

export interface ChartRef {
  name: string
  version: string
}

/**
 * Splits helm's `<name>-<version>` chart column (`todo-chatbot-chart-1.0.0`, `todo-0.1.0-rc.1`): the
 * version is the first `-` followed by a semver. undefined when there is none.
 */
export function parseChartRef(chart: string): ChartRef | undefined {
  const match = /^(.+?)-(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)$/.exec(chart)
  if (!match?.[1] || !match[2]) return undefined
  return {name: match[1], version: match[2]}
}
