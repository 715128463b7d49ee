import {Flags} from '@oclif/core'

import {BaseCommand, commandExample} from '../cli/base-command.js'
import {onOutputClosed} from '../cli/closed-output.js'
import {listenForKeys} from '../cli/dev-keys.js'
import {renderDevLoopEvent, renderDevLoopEventJson} from '../cli/dev-view.js'
import {timeoutFlag, userAtHost} from '../cli/lifecycle-flags.js'
import {colorFor, LogView} from '../cli/log-view.js'
import {renderDownResult} from '../cli/operation-view.js'
import {renderStatus} from '../cli/status-view.js'
import {inputExcerpt} from '../lib/config/input-excerpt.js'
import {SERVICE_NAMES} from '../lib/config/schema.js'
import {DevLoop, type DevInputs, type DevLoopEvent} from '../lib/dev/dev-loop.js'
import {DEFAULT_DEBOUNCE_MS, SourceWatcher} from '../lib/dev/source-watcher.js'
import {BadInputError} from '../lib/errors.js'
import {checkLocalInputs} from '../lib/lifecycle/local-inputs.js'
import {runDown} from '../lib/lifecycle/down.js'
import type {Connection} from '../lib/lifecycle/ports.js'
import {defaultTimeoutMs} from '../lib/lifecycle/up.js'
import {readStatus} from '../lib/lifecycle/status.js'

/** Longer than this is a typo (a debounce is a pause between keystrokes and saves, not minutes). */
const MAX_DEBOUNCE_MS = 60_000

export default class Dev extends BaseCommand<typeof Dev> {
  static override summary = 'Deploy, then redeploy what changed on every save, with the logs streaming.'

  static override description = `Runs \`up\`, then watches each enabled service's build context (filtered by its .dockerignore;
node_modules, .next and .git never count), todo-deploy.yaml, the chart and .env. A burst of changes (a save, a
git checkout of 500 files) is one iteration: one recomputed up plan that rebuilds and reloads only the services
that changed (the others keep their deployed images), upgrades the release, waits for the rollout, checks health
and prints one line:
  frontend changed (3 files) → build 2.1s, load 1.0s, upgrade 0.8s, rollout 11.4s, health 0.1s → http://...
The app's logs stream between those lines. A change to todo-deploy.yaml, the chart or .env reads the
configuration again (a broken one is shown, and dev keeps watching).

Live sync: a change that a service's sync rules cover (services.<name>.sync; the bundled Dockerfiles bring
theirs) is copied into its running pods instead, with no build and no Helm revision, and dev builds the
Dockerfile's \`dev\` stage (a server that reloads) when it has one:
  frontend: synced 2 files to 2 pods in 0.4 s → served
The Dockerfile, .dockerignore, package.json, a lock file or requirements.txt, and files no rule covers,
rebuild as above; so does a service whose container has no tar or cannot be written (dev says which, and
the fix). A pod that restarts or is replaced gets the synced files again.

A failed build or rollout never ends dev: the diagnosis is printed, the release is rolled back to the last good
revision (unless --no-rollback), and dev waits for the next change. A change made during an iteration is queued
for the next one. The release's lock is held while dev runs: an \`up\` elsewhere is refused, naming this dev.

When the app's URL does not answer from this machine (minikube's docker driver on macOS/Windows, a remote node),
or with --port-forward, the frontend Service is forwarded to 127.0.0.1 and that URL is printed.

Stopping: Ctrl-C (or q) lets a running iteration finish, stops watching and leaves the app deployed (exit 0);
a second Ctrl-C aborts the iteration. --cleanup runs \`down\` on the way out. Keys on a terminal: r rebuilds now,
s prints the status, q quits.`

  static override flags = {
    debounce: Flags.custom<number>({
      summary: `Quiet time after the last change before an iteration starts, in ms (default ${DEFAULT_DEBOUNCE_MS}).`,
      helpValue: 'MS',
      parse: async (input) => parseDebounce(input),
    })(),
    logs: Flags.boolean({
      summary: "Stream the app's logs between the summary lines. --no-logs hides them.",
      default: true,
      allowNo: true,
    }),
    'port-forward': Flags.boolean({
      summary: "Reach the app through a port-forward on 127.0.0.1 even when the cluster's URL answers.",
      default: false,
    }),
    cleanup: Flags.boolean({
      summary: 'Run `down` when dev stops (default: the app stays deployed).',
      default: false,
    }),
    rollback: Flags.boolean({
      summary:
        'Roll back to the last good revision when a rollout fails. --no-rollback leaves the failed revision.',
      default: true,
      allowNo: true,
    }),
    timeout: timeoutFlag(),
  }

  static override examples = [
    commandExample('Deploy, then redeploy on every save', 'dev'),
    commandExample('Without the app logs, waiting 1s after the last change', 'dev --no-logs --debounce 1000'),
    commandExample('Always reach the app through a port-forward on 127.0.0.1', 'dev --port-forward'),
    commandExample('Remove the release when dev stops', 'dev --cleanup'),
    commandExample('One JSON event per line, for tools', 'dev --json'),
  ]

  async run(): Promise<void> {
    const inputs = this.readInputs()
    const json = this.jsonEnabled()
    const color = colorFor(process.stdout)
    const interactive = !json && process.stdin.isTTY === true
    const logs = new LogView({
      color,
      timestamps: false,
      services: SERVICE_NAMES,
      containers: {
        frontend: inputs.resolved.config.services.frontend.container,
        backend: inputs.resolved.config.services.backend.container,
      },
    })
    const onEvent = (event: DevLoopEvent): void => {
      if (json) {
        process.stdout.write(`${renderDevLoopEventJson(event)}\n`)
        return
      }
      for (const {stream, text} of renderDevLoopEvent(event, {color, interactive, logs}))
        process[stream].write(`${text}\n`)
    }

    await this.connected(inputs.resolved, async (connection, stopChildren) => {
      const holder = userAtHost()
      const loop = await DevLoop.open(
        inputs,
        {
          connection,
          reach: connection.reach,
          watch: (targets, options) => SourceWatcher.start(targets, options),
          onEvent,
        },
        {
          reload: () => this.readInputs(),
          debounceMs: this.flags.debounce ?? DEFAULT_DEBOUNCE_MS,
          timeoutMs: this.flags.timeout,
          rollbackOnFailure: this.flags.rollback,
          portForward: this.flags['port-forward'],
          logs: this.flags.logs,
          holder,
          renderer: this.renderer,
        },
      )
      let stops = 0
      const stop = (): void => {
        // The second stop aborts the running iteration: its helm or minikube child goes too.
        if (++stops > 1) stopChildren()
        loop.stop()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
      // `dev | head`: the reader is gone; stop as Ctrl-C does (the app stays deployed, exit 0).
      const releaseOutput = onOutputClosed(process.stdout, () => loop.stop())
      const restoreKeys = interactive
        ? listenForKeys(process.stdin, {
            rebuild: () => loop.rebuildNow(),
            status: () => void this.printStatus(loop, connection, onEvent),
            quit: stop,
          })
        : () => {}
      try {
        await loop.run()
      } finally {
        releaseOutput()
        restoreKeys()
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
      }
      if (this.flags.cleanup) {
        const result = await runDown(loop.resolved, connection, {
          purge: false,
          keep: 0,
          timeoutMs: this.flags.timeout ?? defaultTimeoutMs(loop.resolved),
          holder,
          renderer: this.renderer,
        })
        if (json)
          process.stdout.write(`${JSON.stringify({event: 'down', at: new Date().toISOString(), result})}\n`)
        else this.log(renderDownResult(result))
      }
    })
  }

  /** The configuration and the Secret values, checked as `up` checks them; read again after they change. */
  private readInputs(): DevInputs {
    const resolved = this.loadConfig()
    const secrets = checkLocalInputs(resolved)
    return {resolved, secrets}
  }

  /** `s`: the status, between the other lines; a failure to read it is a warning, not the end of dev. */
  private async printStatus(
    loop: DevLoop,
    connection: Connection,
    onEvent: (event: DevLoopEvent) => void,
  ): Promise<void> {
    try {
      this.log(renderStatus(await readStatus(loop.resolved, connection)))
    } catch (error) {
      onEvent({
        type: 'problem',
        message: `status: ${error instanceof Error ? error.message : String(error)}`,
        at: new Date().toISOString(),
      })
    }
  }
}

/** `--debounce 300` → 300; anything but a whole number of ms from 0 to 60000 is exit 2 naming the flag. */
export function parseDebounce(input: string): number {
  const ms = /^\d+$/.test(input.trim()) ? Number(input.trim()) : Number.NaN
  if (!Number.isSafeInteger(ms) || ms > MAX_DEBOUNCE_MS) {
    throw new BadInputError(
      `--debounce "${inputExcerpt(input)}" is not a number of milliseconds from 0 to ${MAX_DEBOUNCE_MS}`,
      {where: '--debounce', fix: `write it like --debounce ${DEFAULT_DEBOUNCE_MS} (milliseconds)`},
    )
  }
  return ms
}
