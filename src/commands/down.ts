import {createInterface} from 'node:readline/promises'

import {Flags} from '@oclif/core'

import {BaseCommand, commandExample} from '../cli/base-command.js'
import {timeoutFlag} from '../cli/lifecycle-flags.js'
import {renderDownResult} from '../cli/operation-view.js'
import {BadInputError} from '../lib/errors.js'
import {runDown, type DownResult} from '../lib/lifecycle/down.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Uninstall the release and wait until its pods are gone.'

  static override description = `Asks for confirmation on a terminal unless --yes (without a terminal, --yes is required).
Runs helm uninstall and follows the release's pods (by watch) until they are gone. With --purge it also deletes the
Secret the CLI created, its state record, the namespace when the CLI created it and nothing else lives there, and
this app's images from the cluster and the local Docker Engine (keeping the newest N with --keep N); a deleted
namespace is waited for until it is gone, so an \`up\` right after meets no Terminating namespace. Running it
when nothing is deployed says so and exits 0.`

  static override flags = {
    yes: Flags.boolean({
      char: 'y',
      summary: 'Do not ask for confirmation (required without a terminal).',
      default: false,
    }),
    purge: Flags.boolean({
      summary:
        'Also remove the Secret, the state record, the namespace (if todo-deploy created it and it is empty) and the images.',
      default: false,
    }),
    // No default: run() must tell `--keep 0` from no --keep to refuse --keep without --purge (oclif's dependsOn counts purge's default false as given).
    keep: Flags.integer({
      summary: 'With --purge: keep the newest N images of each service (default 0).',
      min: 0,
      max: 1000,
    }),
    timeout: timeoutFlag({
      summary:
        'How long to wait for the pods to go, and with --purge for the namespace to be gone, e.g. 2m. Default: 2m.',
    }),
  }

  static override examples = [
    commandExample('Remove the release (asks first)', 'down'),
    commandExample('Remove everything, no questions (scripts, CI)', 'down --yes --purge'),
    commandExample('Purge but keep the two newest images of each service', 'down --yes --purge --keep 2'),
  ]

  async run(): Promise<DownResult> {
    if (this.flags.keep !== undefined && !this.flags.purge) {
      throw new BadInputError('--keep only applies with --purge', {
        where: '--keep',
        fix: `add --purge (todo-deploy down --purge --keep ${this.flags.keep}), or leave out --keep`,
      })
    }
    const resolved = this.loadConfig()
    const {release, namespace} = resolved.config
    if (!this.flags.yes) {
      if (!process.stdin.isTTY || this.jsonEnabled()) {
        throw new BadInputError('down needs confirmation, and there is no terminal to ask on', {
          where: '--yes',
          fix: `run \`todo-deploy down --yes${this.flags.purge ? ' --purge' : ''}\` to confirm`,
        })
      }
      const answer = await ask(
        `Uninstall release ${release} from namespace ${namespace}${this.flags.purge ? ' and purge its Secret, namespace and images' : ''}? [y/N] `,
      )
      if (!/^y(es)?$/i.test(answer.trim())) {
        this.log('nothing was changed')
        return {
          command: 'down',
          release,
          namespace,
          uninstalled: false,
          state: 'Initial',
          purged: null,
          phases: [],
        }
      }
    }
    return this.operate(
      resolved,
      ({connection, signal, renderer, holder}) =>
        runDown(resolved, connection, {
          purge: this.flags.purge,
          keep: this.flags.keep ?? 0,
          timeoutMs: this.flags.timeout ?? 120_000,
          holder,
          renderer,
          signal,
        }),
      renderDownResult,
    )
  }
}

async function ask(question: string): Promise<string> {
  const readline = createInterface({input: process.stdin, output: process.stderr})
  try {
    return await readline.question(question)
  } finally {
    readline.close()
  }
}
