import {Args, Flags} from '@oclif/core'

import {BaseCommand, commandExample} from '../cli/base-command.js'
import {timeoutFlag} from '../cli/lifecycle-flags.js'
import {renderHistory, renderRollbackResult} from '../cli/operation-view.js'
import {withSpinner} from '../cli/spinner.js'
import {inputExcerpt} from '../lib/config/input-excerpt.js'
import {BadInputError} from '../lib/errors.js'
import {listRevisions, runRollback, type RevisionRow, type RollbackResult} from '../lib/lifecycle/rollback.js'
import {defaultTimeoutMs} from '../lib/lifecycle/up.js'

export default class Rollback extends BaseCommand<typeof Rollback> {
  static override summary = 'Return to an earlier revision (default: the last one that worked).'

  static override description = `Because every image is tagged by its content, a rollback brings the old code back, not
just the old manifests. The default target is the newest earlier revision that deployed successfully (a failed
revision is skipped). Images the cluster no longer has are reloaded from the local Docker Engine; when they are gone
from both, the rollback is refused (exit 5) with how to rebuild them. After helm rollback it follows the rollout
like \`up\`, checks that the pods run the target revision's tags, and prints the URL.`

  static override args = {
    revision: Args.custom<number>({
      description: 'Revision to return to (default: the previous revision that deployed successfully).',
      // Helm numbers revisions from 1 with 32-bit integers: anything else cannot name one, so it never reaches the cluster.
      parse: async (input) => {
        if (!/^\d+$/.test(input) || Number(input) < 1 || Number(input) > 2_147_483_647) {
          throw new BadInputError(`revision "${inputExcerpt(input)}" is not a revision number`, {
            where: 'REVISION (the first argument)',
            fix: 'give a whole number from 1 up, as `todo-deploy rollback --list` shows, or leave it out for the previous good revision',
          })
        }
        return Number(input)
      },
    })(),
  }

  static override flags = {
    list: Flags.boolean({
      char: 'l',
      summary: 'Print the history (revision, status, image tags, description) and change nothing.',
      default: false,
    }),
    timeout: timeoutFlag(),
  }

  static override examples = [
    commandExample('Back to the previous good revision', 'rollback'),
    commandExample('Back to revision 3', 'rollback 3'),
    commandExample('Every revision with its image tags, status and description', 'rollback --list'),
  ]

  async run(): Promise<RollbackResult | RevisionRow[]> {
    if (this.flags.list && this.args.revision !== undefined) {
      throw new BadInputError(`--list shows the history and takes no revision (got ${this.args.revision})`, {
        where: '--list',
        fix: `run \`todo-deploy rollback --list\` to see the history, or \`todo-deploy rollback ${this.args.revision}\` to return to it`,
      })
    }
    const resolved = this.loadConfig()
    const {release, namespace} = resolved.config
    if (this.flags.list) {
      return this.connected(resolved, async (connection) => {
        const rows = await withSpinner(`reading the history of ${release}`, !this.jsonEnabled(), () =>
          listRevisions(resolved, connection),
        )
        this.log(renderHistory(release, namespace, rows))
        return rows
      })
    }
    return this.operate(
      resolved,
      ({connection, signal, renderer, holder}) =>
        runRollback(resolved, connection, {
          revision: this.args.revision,
          timeoutMs: this.flags.timeout ?? defaultTimeoutMs(resolved),
          holder,
          renderer,
          signal,
        }),
      renderRollbackResult,
    )
  }
}
