import {BaseCommand, commandExample} from '../cli/base-command.js'
import {dependencies} from '../cli/dependencies.js'
import {renderDoctorCheck, renderDoctorSummary} from '../cli/doctor-view.js'
import {terminalSpinner} from '../cli/spinner.js'
import {runDoctor, type DoctorCheck} from '../lib/doctor/doctor.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check the machine, the cluster and the configuration before a deploy.'

  // One line per paragraph: oclif wraps help text to the terminal, and hard line breaks would break that wrapping.
  static override description = [
    'Runs every preflight check (Docker Engine, helm, kube context, minikube or the detected cluster tool, cluster reachable, secrets present by name) and every rule of the data model that the configuration, the Dockerfiles, the chart and the values files decide on their own. One line per check: pass, warn or fail, with the fix for each failure. Rule ids are stable (see the README).',
    'Exit code 0 when nothing failed, 2 when the configuration breaks a rule (this wins: bad input is reported whether or not a cluster runs), 3 when a prerequisite is missing.',
  ].join('\n\n')

  static override examples = [
    commandExample('Check everything with the built-in defaults (or ./todo-deploy.yaml)', 'doctor'),
    commandExample('Check a spec B deployment', 'doctor --config examples/spec-b/todo-deploy.yaml'),
    commandExample('Machine-readable: an array of {id, check, status, detail, fix}', 'doctor --json'),
  ]

  async run(): Promise<DoctorCheck[]> {
    const resolved = this.loadConfig()
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR
    const spinner = terminalSpinner(!this.jsonEnabled())
    const report = await runDoctor(resolved, dependencies().preflight(), {
      onStart: (check) => spinner.start(check),
      onCheck: (check) => {
        spinner.stop()
        this.log(renderDoctorCheck(check, color))
      },
    })
    this.log(renderDoctorSummary(report))
    process.exitCode = report.exitCode
    if (report.exitCode !== 0 && !this.jsonEnabled()) this.exit(report.exitCode)
    return report.checks
  }
}
