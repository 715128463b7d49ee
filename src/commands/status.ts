import {Flags} from '@oclif/core'

import {BaseCommand, commandExample} from '../cli/base-command.js'
import {abortOnSignals} from '../cli/interrupts.js'
import {withSpinner} from '../cli/spinner.js'
import {renderStatus} from '../cli/status-view.js'
import {InterruptedError} from '../lib/errors.js'
import {readStatus, watchStatus, type StatusReport} from '../lib/lifecycle/status.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show the release, its state, every pod explained, and the URL.'

  static override description = `Reads the Helm release, the live Deployments, pods and Services of the release, and
the lifecycle record the last operation left in the cluster, and explains each pod's state in words
("CrashLoopBackOff: exited 1 3 times, last log line: ..."). Nothing deployed prints "not deployed" (exit 0);
an unreachable cluster exits 3. --json prints the documented StatusReport (see the README); --watch redraws
on every change (watch-driven, no polling) until Ctrl-C.`

  static override flags = {
    watch: Flags.boolean({
      char: 'w',
      summary: 'Redraw on every change until Ctrl-C (with --json: one JSON document per change).',
      default: false,
    }),
  }

  static override examples = [
    commandExample('What is running and why', 'status'),
    commandExample('Follow the pods as they change', 'status --watch'),
    commandExample('Machine-readable', 'status --json'),
  ]

  async run(): Promise<StatusReport> {
    const resolved = this.loadConfig()
    return this.connected(
      resolved,
      async (connection) => {
        if (!this.flags.watch) {
          const report = await withSpinner(
            `reading release ${resolved.config.release} in ${resolved.config.namespace}`,
            !this.jsonEnabled(),
            () => readStatus(resolved, connection),
          )
          this.log(renderStatus(report))
          return report
        }
        const interrupts = abortOnSignals()
        let last: StatusReport | undefined
        try {
          await watchStatus(resolved, connection, interrupts.signal, (report) => {
            last = report
            if (this.jsonEnabled()) {
              process.stdout.write(`${JSON.stringify(report)}\n`)
            } else {
              if (process.stdout.isTTY) process.stdout.write('\u001B[2J\u001B[H')
              this.log(`${renderStatus(report)}\n\n(watching; Ctrl-C to stop)`)
            }
          })
        } catch (error) {
          if (!(error instanceof InterruptedError)) throw error
        } finally {
          interrupts.dispose()
        }
        // Ctrl-C ends a watch normally; the last view was already printed.
        process.exitCode = 0
        if (this.jsonEnabled()) this.exit(0)
        return last as StatusReport
      },
      {readOnly: true},
    )
  }
}
