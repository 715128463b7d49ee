import {Args, Flags} from '@oclif/core'

import {BaseCommand, commandExample} from '../cli/base-command.js'
import {onOutputClosed} from '../cli/closed-output.js'
import {abortOnSignals} from '../cli/interrupts.js'
import {colorFor, LogView, logJsonLine} from '../cli/log-view.js'
import {withSpinner} from '../cli/spinner.js'
import {inputExcerpt} from '../lib/config/input-excerpt.js'
import {MAX_DURATION_MS, parseDuration, SERVICE_NAMES} from '../lib/config/schema.js'
import {BadInputError} from '../lib/errors.js'
import type {LogEvent} from '../lib/logs/log-multiplexer.js'
import {chooseServices, streamReleaseLogs, type ReleaseLogsResult} from '../lib/logs/release-logs.js'

const DEFAULT_TAIL = 50

export default class Logs extends BaseCommand<typeof Logs> {
  static override summary =
    "Show the logs of the release's pods, each line prefixed with its service and pod."

  static override description = `Reads the log of every container of the release's pods (all enabled services, or the ones
named) through the Kubernetes API and prints each line as \`frontend 7d9f-x2kq9 │ line\`, coloured per service on a
terminal (NO_COLOR turns colour off). Without --since, the last 50 lines of each container (--tail); with --since,
every line of that period unless --tail is given too. A pod that has no logs yet says why (ContainerCreating, an
image that cannot be pulled, CrashLoopBackOff). --follow keeps streaming: pods that a rollout or a restart creates are
picked up (by watch), and a stream that ends while its container runs is reopened where it stopped. Ctrl-C ends
--follow with exit 0. Nothing deployed prints "not deployed" (exit 0, like \`status\`).`

  static override strict = false

  static override args = {
    service: Args.string({
      description: 'frontend and/or backend (default: every enabled service).',
    }),
  }

  static override flags = {
    follow: Flags.boolean({
      char: 'f',
      summary: 'Keep streaming new lines (and new pods) until Ctrl-C.',
      default: false,
      exclusive: ['previous'],
    }),
    since: Flags.custom<number>({
      summary:
        'Only lines newer than this, e.g. 30s, 10m, 2h (every line of that period unless --tail is given).',
      helpValue: 'DURATION',
      parse: async (input) => parseSince(input),
    })(),
    tail: Flags.integer({
      summary: `Lines per container from before now; -1 for all. Default: ${DEFAULT_TAIL} (all with --since). With --follow, 0 shows only new lines.`,
      helpValue: 'N',
      min: -1,
    }),
    previous: Flags.boolean({
      char: 'p',
      summary: 'The log of the previous (crashed) instance of each container.',
      default: false,
    }),
    timestamps: Flags.boolean({
      summary: "Put the kubelet's RFC3339 timestamp before each line.",
      default: false,
    }),
  }

  static override examples = [
    commandExample('The last 50 lines of every pod', 'logs'),
    commandExample('Follow the backend, through rollouts and restarts', 'logs backend -f'),
    commandExample('Everything of the last 10 minutes, with timestamps', 'logs --since 10m --timestamps'),
    commandExample('Why did it crash? The crashed instance of each container', 'logs backend --previous'),
    commandExample('One JSON object per line, for jq', 'logs --json --tail 200'),
  ]

  async run(): Promise<void> {
    const {argv} = await this.parse(Logs)
    const resolved = this.loadConfig()
    const json = this.jsonEnabled()
    const {follow} = this.flags
    const tail = this.flags.tail ?? (this.flags.since === undefined ? DEFAULT_TAIL : -1)
    const view = new LogView({
      color: colorFor(process.stdout),
      timestamps: this.flags.timestamps,
      services: SERVICE_NAMES,
      containers: {
        frontend: resolved.config.services.frontend.container,
        backend: resolved.config.services.backend.container,
      },
    })
    const onEvent = (event: LogEvent): void => {
      if (event.type === 'line') process.stdout.write(`${json ? logJsonLine(event) : view.line(event)}\n`)
      else process.stderr.write(`${view.notice(event)}\n`)
    }
    const options = {
      services: argv as string[],
      follow,
      previous: this.flags.previous,
      tail: tail === -1 ? ('all' as const) : tail,
      sinceSeconds: this.flags.since,
    }
    // A service name that cannot be is bad input before any connection is made.
    chooseServices(resolved, options.services)
    const interrupts = follow ? abortOnSignals() : undefined
    // `logs | head`: the reader is gone, so reading stops and the command ends with exit 0.
    const outputGone = new AbortController()
    const releaseOutput = onOutputClosed(process.stdout, () => outputGone.abort())
    const signal = interrupts ? AbortSignal.any([interrupts.signal, outputGone.signal]) : outputGone.signal
    let result: ReleaseLogsResult
    try {
      result = await this.connected(
        resolved,
        (connection) =>
          follow
            ? streamReleaseLogs(resolved, connection, options, onEvent, signal)
            : withSpinner(`reading the logs of release ${resolved.config.release}`, !json, () =>
                streamReleaseLogs(resolved, connection, options, onEvent, signal),
              ),
        {readOnly: true},
      )
    } finally {
      interrupts?.dispose()
      releaseOutput()
    }
    if (outputGone.signal.aborted) return
    const {namespace, release} = resolved.config
    if (!result.deployed) {
      process.stderr.write(
        `not deployed: release ${release} has no ${result.services.join(' or ')} Deployment in namespace ${namespace} (deploy it with \`todo-deploy up\`)\n`,
      )
    } else if (result.pods === 0 && !follow) {
      process.stderr.write(
        `no pods: the ${result.services.join(' and ')} Deployments of release ${release} have no pods (scaled to 0?); see \`todo-deploy status\`\n`,
      )
    }
  }
}

/** `--since 10m` → 600 seconds; anything else is an exit-2 error naming the flag with an example. */
export function parseSince(input: string): number {
  const ms = parseDuration(input)
  if (ms === undefined || ms <= 0 || ms > MAX_DURATION_MS) {
    throw new BadInputError(
      `--since "${inputExcerpt(input)}" is not a duration from 1s to 24h: write it like --since 10m (units s, m, h)`,
      {where: '--since', fix: 'use a duration such as 30s, 10m or 2h'},
    )
  }
  return Math.ceil(ms / 1000)
}
