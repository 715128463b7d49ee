import pc from 'picocolors'

import type {ChangeSet} from '../lib/dev/change-set.js'
import type {DevLoopEvent} from '../lib/dev/dev-loop.js'
import type {SyncCheck, SyncDone} from '../lib/dev/live-sync.js'
import type {DevEvent, StepTiming} from '../lib/dev/dev-session.js'
import {renderErrorView, toErrorView} from './error-view.js'
import {logJsonLine, type LogView} from './log-view.js'
import {renderUpResult} from './operation-view.js'
import {formatDuration} from './phase-table.js'

/** At most this many changed paths per service go into a JSON event; `files` always has the full count. */
export const JSON_PATHS_PER_SERVICE = 20

/** `frontend changed (3 files), .env changed`: what started an iteration. */
export function describeChanges(changes: ChangeSet): string {
  const parts = changes.services.map(
    ({service, files}) => `${service} changed (${files} ${files === 1 ? 'file' : 'files'})`,
  )
  if (changes.config) parts.push('configuration changed')
  if (changes.chart) parts.push('chart changed')
  if (changes.env) parts.push('.env changed')
  if (changes.manual) parts.push('rebuild requested')
  return parts.join(', ')
}

function describeSteps(steps: readonly StepTiming[]): string {
  return steps.map(({step, ms}) => `${step} ${formatDuration(ms)}`).join(', ')
}

/**
 * The human view of `dev`: one summary line per iteration, e.g.
 * `frontend changed (3 files) → build 2.1s, load 1.0s, rollout 11.4s → http://...`; a failure adds
 * the same diagnosis `up` prints. Returns undefined for events that print nothing (a started
 * iteration shows as progress, not as a line).
 */
export function renderDevEvent(
  event: DevEvent,
  options: {color: boolean; interactive: boolean},
): string | undefined {
  const paint = options.color
    ? pc
    : {dim: (s: string) => s, green: (s: string) => s, red: (s: string) => s, cyan: (s: string) => s}
  switch (event.type) {
    case 'watching':
      if (event.iterations > 0) return undefined
      return paint.dim(
        `watching for changes${options.interactive ? ' (r: rebuild now, s: status, q: quit)' : ' (Ctrl-C to stop)'}`,
      )
    case 'iteration-started':
      return undefined
    case 'iteration-finished': {
      const parts = [describeChanges(event.changes)]
      // A synced change has its own line per service (renderSynced): nothing more to say.
      if (event.status === 'synced') return undefined
      if (event.status === 'unchanged') parts.push('nothing to redeploy (same images and values)')
      else {
        if (event.steps.length > 0) parts.push(describeSteps(event.steps))
        parts.push(event.url === undefined ? paint.green('deployed') : paint.cyan(event.url))
      }
      return parts.join(' → ')
    }
    case 'iteration-failed': {
      const parts = [describeChanges(event.changes)]
      if (event.steps.length > 0) parts.push(describeSteps(event.steps))
      parts.push(paint.red('failed'))
      const lines = [parts.join(' → '), renderErrorView(toErrorView(event.error), {color: options.color})]
      if (event.rolledBackTo !== undefined) lines.push(`rolled back to revision ${event.rolledBackTo}`)
      lines.push(paint.dim('waiting for the next change'))
      return lines.join('\n')
    }
    case 'stopping':
      if (event.iteration === undefined) return paint.dim('stopping')
      return paint.dim(
        event.abort
          ? `stopping: aborting iteration ${event.iteration}`
          : `stopping: letting iteration ${event.iteration} finish (press Ctrl-C or q again to abort it)`,
      )
    case 'stopped':
      return paint.dim(
        `stopped after ${event.iterations} ${event.iterations === 1 ? 'iteration' : 'iterations'}${event.failed > 0 ? ` (${event.failed} failed)` : ''}`,
      )
  }
}

/**
 * `--json`: one JSON object per line, per event: `event` names it (watching, iteration-started,
 * iteration-finished, iteration-failed, stopping, stopped), the other fields are the event's; changed
 * paths are cut to JSON_PATHS_PER_SERVICE per service (`files` keeps the count) and a failure's `error`
 * is the object `up --json` prints (exitCode, kind, message, where, fix, details).
 */
export function renderDevEventJson(event: DevEvent): string {
  const {type, ...rest} = event
  const fields: Record<string, unknown> = {event: type, ...rest}
  if ('changes' in event) fields.changes = jsonChanges(event.changes)
  if (event.type === 'iteration-failed') fields.error = toErrorView(event.error)
  return JSON.stringify(fields)
}

function jsonChanges(changes: ChangeSet): ChangeSet {
  return {
    ...changes,
    services: changes.services.map(({service, files, paths}) => ({
      service,
      files,
      paths: paths.slice(0, JSON_PATHS_PER_SERVICE),
    })),
  }
}

/** A line of `dev`'s output and where it goes: summaries and app logs on stdout, the rest on stderr. */
export interface DevOutputLine {
  stream: 'stdout' | 'stderr'
  text: string
}

/**
 * The human view of the whole `dev` loop: the session's events (renderDevEvent), the first `up`, the
 * app's log lines (as `logs` prints them), where the app is reachable, and problems that do not stop it.
 */
export function renderDevLoopEvent(
  event: DevLoopEvent,
  options: {color: boolean; interactive: boolean; logs: LogView},
): DevOutputLine[] {
  const paint = pc.createColors(options.color)
  switch (event.type) {
    case 'up':
      if (event.error === undefined)
        return event.result ? [{stream: 'stdout', text: renderUpResult(event.result)}] : []
      return [
        {stream: 'stderr', text: renderErrorView(toErrorView(event.error), {color: options.color})},
        {stream: 'stderr', text: paint.dim('dev keeps watching: the next change tries again')},
      ]
    case 'log':
      return event.log.type === 'line'
        ? [{stream: 'stdout', text: options.logs.line(event.log)}]
        : [{stream: 'stderr', text: options.logs.notice(event.log)}]
    case 'reachable':
      return [
        {
          stream: 'stderr',
          text:
            event.via === 'port-forward'
              ? `the app is reachable at ${paint.cyan(event.url)} (port-forward to the frontend Service)`
              : `the app is reachable at ${paint.cyan(event.url)}`,
        },
      ]
    case 'problem':
      return [{stream: 'stderr', text: paint.yellow(`warning: ${event.message}`)}]
    case 'waiting':
      return [{stream: 'stderr', text: paint.dim(event.message)}]
    case 'iteration-started':
      return [{stream: 'stderr', text: paint.dim(`${describeChanges(event.changes)}: updating…`)}]
    case 'synced':
      return [{stream: 'stdout', text: renderSynced(event.sync, paint)}]
    case 'sync-fallback': {
      const {fallback} = event
      const lines = [paint.yellow(`${fallback.service}: rebuilding instead of syncing: ${fallback.reason}`)]
      if ('details' in fallback && fallback.details !== undefined)
        lines.push(...fallback.details.map((line) => `  ${line}`))
      if ('fix' in fallback && fallback.fix !== undefined) lines.push(`  fix: ${fallback.fix}`)
      return [{stream: 'stderr', text: lines.join('\n')}]
    }
    default: {
      const text = renderDevEvent(event, options)
      if (text === undefined) return []
      return [{stream: event.type === 'iteration-failed' ? 'stderr' : 'stdout', text}]
    }
  }
}

/**
 * `dev --json`: one object per line for every event: the session's (renderDevEventJson), `up` (the
 * result `up --json` prints, and `error` when it failed), `log` (the fields of `logs --json`),
 * `log-notice`, `reachable` and `problem`.
 */
export function renderDevLoopEventJson(event: DevLoopEvent): string {
  switch (event.type) {
    case 'up':
      return JSON.stringify({
        event: 'up',
        at: event.at,
        ...(event.result === undefined ? {} : {result: event.result}),
        ...(event.error === undefined ? {} : {error: toErrorView(event.error)}),
      })
    case 'log':
      if (event.log.type === 'line')
        return JSON.stringify({event: 'log', at: event.at, ...JSON.parse(logJsonLine(event.log))})
      return JSON.stringify({
        event: 'log-notice',
        at: event.at,
        service: event.log.service,
        pod: event.log.pod,
        reason: event.log.reason,
        message: event.log.message,
      })
    case 'reachable':
      return JSON.stringify({event: 'reachable', at: event.at, url: event.url, via: event.via})
    case 'problem':
      return JSON.stringify({event: 'problem', at: event.at, message: event.message})
    case 'waiting':
      return JSON.stringify({event: 'waiting', at: event.at, message: event.message})
    case 'synced':
      return JSON.stringify({event: 'synced', at: event.at, ...event.sync})
    case 'sync-fallback':
      return JSON.stringify({event: 'sync-fallback', at: event.at, ...event.fallback})
    default:
      return renderDevEventJson(event)
  }
}

/**
 * `frontend: synced 2 files to 2 pods in 0.4 s → served`, the line of one live sync; a pod that had
 * restarted (or was new) and got every synced file again is named.
 */
export function renderSynced(
  sync: SyncDone,
  paint: {green(s: string): string; yellow(s: string): string},
): string {
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`
  const what = [
    ...(sync.files > 0 || sync.deletions === 0 ? [count(sync.files, 'file', 'files')] : []),
    ...(sync.deletions > 0 ? [`${count(sync.deletions, 'deletion', 'deletions')}`] : []),
  ].join(' and ')
  const again =
    sync.resynced.pods.length === 0
      ? ''
      : ` (${count(sync.resynced.pods.length, 'pod', 'pods')} restarted or new, given all ${count(sync.resynced.files, 'synced file', 'synced files')} again: ${sync.resynced.pods.join(', ')})`
  const head =
    sync.files === 0 && sync.deletions === 0
      ? `${sync.service}: synced ${count(sync.resynced.files, 'file', 'files')} again to ${count(sync.resynced.pods.length, 'pod', 'pods')} (restarted or new: ${sync.resynced.pods.join(', ')})`
      : `${sync.service}: synced ${what} to ${count(sync.pods, 'pod', 'pods')}${again}`
  return `${head} in ${(sync.ms / 1000).toFixed(1)} s → ${describeCheck(sync.check, paint)}`
}

function describeCheck(
  check: SyncCheck,
  paint: {green(s: string): string; yellow(s: string): string},
): string {
  switch (check.kind) {
    case 'served':
      return paint.green('served')
    case 'healthy':
      return paint.green(`GET ${check.path} answers`)
    case 'unanswered':
      return paint.yellow(
        `GET ${check.path} ${check.status === 0 ? 'did not answer' : `answered ${check.status}`}: the app may not have reloaded (see its logs)`,
      )
  }
}
