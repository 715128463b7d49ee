import {statSync} from 'node:fs'
import path from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand, commandExample} from '../cli/base-command.js'
import {timeoutFlag} from '../cli/lifecycle-flags.js'
import {renderUpResult} from '../cli/operation-view.js'
import {inputExcerpt} from '../lib/config/input-excerpt.js'
import {SERVICE_NAMES, type ServiceName} from '../lib/config/schema.js'
import {BadInputError} from '../lib/errors.js'
import {checkLocalInputs} from '../lib/lifecycle/local-inputs.js'
import {defaultTimeoutMs, runUp, type UpResult} from '../lib/lifecycle/up.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Build, load and deploy the app, wait until it is ready, print the URL.'

  static override description = `Builds both images (tagged by content: unchanged source means no build), gets them
into the cluster (minikube image load, or docker-env), applies the Secret from your environment / .env, runs
helm upgrade --install, follows the rollout until every pod is ready, checks the health endpoints through the
cluster and prints the URL as the last line. When nothing changed it builds, loads and deploys nothing.

On a cluster that publishes no address for the app (a remote cluster's ClusterIP Service), --port-forward
forwards the frontend to 127.0.0.1 (port 8080, or a free one when it is taken), checks it with a GET, prints
that URL and keeps forwarding until Ctrl-C (exit 0; the app stays deployed).

A rollout that fails is explained (pod, container, reason, log tail, events, a kubectl command) and rolled back
to the last revision that worked, unless --no-rollback.`

  static override flags = {
    only: Flags.string({
      summary: 'Build and load only these services (comma-separated); the others keep their deployed images.',
      helpValue: 'frontend,backend',
      delimiter: ',',
      multiple: true,
      options: [...SERVICE_NAMES],
    }),
    build: Flags.boolean({
      summary: 'Build images whose content changed. --no-build deploys images the engine already has.',
      default: true,
      allowNo: true,
    }),
    wait: Flags.boolean({
      summary: 'Wait for the rollout and check health. --no-wait stops after helm.',
      default: true,
      allowNo: true,
    }),
    timeout: timeoutFlag(),
    rollback: Flags.boolean({
      summary:
        'Roll back to the last good revision when the rollout fails. --no-rollback leaves the failed revision.',
      default: true,
      allowNo: true,
    }),
    'dry-run': Flags.boolean({
      summary:
        'Print the plan (tags, what would be built, loaded, deployed) and the rendered manifests; change nothing.',
      default: false,
    }),
    'port-forward': Flags.boolean({
      summary:
        'Once healthy, forward the frontend to 127.0.0.1 (8080, else a free port), print that URL and keep forwarding until Ctrl-C.',
      default: false,
    }),
    force: Flags.boolean({
      summary:
        'Recover a release stuck in pending-install/upgrade/rollback (roll back or uninstall it) before deploying.',
      default: false,
    }),
    values: Flags.string({
      char: 'f',
      summary: 'Extra Helm values file, applied after the configured ones (repeatable).',
      helpValue: 'FILE',
      multiple: true,
    }),
    set: Flags.string({
      summary: 'Set a Helm value, e.g. --set frontend.replicaCount=3 (repeatable). Never put a secret here.',
      helpValue: 'KEY=VALUE',
      multiple: true,
    }),
  }

  static override examples = [
    commandExample('Deploy (or update) everything', 'up'),
    commandExample('Rebuild and reload only the backend', 'up --only backend'),
    commandExample('Show the plan and the rendered manifests; change nothing', 'up --dry-run'),
    commandExample('Recover a release stuck in pending-upgrade, then deploy', 'up --force'),
    commandExample(
      'Deploy, then reach the app on http://127.0.0.1:8080 until Ctrl-C (any cluster)',
      'up --port-forward',
    ),
    commandExample('Machine-readable result (phases, timings, tags, revision, URL, diagnosis)', 'up --json'),
  ]

  async run(): Promise<UpResult> {
    for (const pair of this.flags.set ?? []) {
      if (!/^[^=\s]+=/.test(pair))
        throw new BadInputError(`--set "${inputExcerpt(pair)}" is not KEY=VALUE`, {
          where: '--set',
          fix: 'write it as --set frontend.replicaCount=3',
        })
    }
    if (this.flags['port-forward'] && (this.flags['dry-run'] || !this.flags.wait))
      throw new BadInputError(
        `--port-forward needs a healthy deploy to forward to, and ${this.flags['dry-run'] ? '--dry-run deploys nothing' : '--no-wait does not wait for one'}`,
        {
          where: '--port-forward',
          fix: `leave out ${this.flags['dry-run'] ? '--dry-run' : '--no-wait'} or --port-forward`,
        },
      )
    // A values file helm cannot read would fail the deploy only after the images were built and loaded.
    const valuesFiles = (this.flags.values ?? []).map((file) => valuesFile(file))
    // Everything local is checked before the cluster is asked anything: bad input is exit 2, cluster or not.
    const resolved = this.loadConfig()
    const secrets = checkLocalInputs(resolved)

    return this.operate(
      resolved,
      ({connection, signal, renderer, holder}) =>
        runUp(resolved, connection, secrets, {
          only: this.flags.only as ServiceName[] | undefined,
          build: this.flags.build,
          wait: this.flags.wait,
          timeoutMs: this.flags.timeout ?? defaultTimeoutMs(resolved),
          rollbackOnFailure: this.flags.rollback,
          dryRun: this.flags['dry-run'],
          force: this.flags.force,
          valuesFiles,
          set: this.flags.set ?? [],
          portForward: this.flags['port-forward'],
          holder,
          renderer,
          signal,
        }),
      renderUpResult,
      (result) => result.forwarding === true,
    )
  }
}

/** The absolute path of a --values file, refused (exit 2) unless it is a readable file. */
function valuesFile(file: string): string {
  const absolute = path.resolve(file)
  let isFile: boolean
  try {
    isFile = statSync(absolute).isFile()
  } catch {
    throw new BadInputError(`--values ${inputExcerpt(absolute)} does not exist`, {
      where: '--values',
      fix: 'give the path of an existing Helm values file',
    })
  }
  if (!isFile)
    throw new BadInputError(`--values ${inputExcerpt(absolute)} is a directory, not a values file`, {
      where: '--values',
      fix: 'give the path of a Helm values file (YAML)',
    })
  return absolute
}
