import Doctor from './commands/doctor.js'
import Down from './commands/down.js'
import Logs from './commands/logs.js'
import Rollback from './commands/rollback.js'
import Status from './commands/status.js'
import Up from './commands/up.js'

/**
 * Every command by id, for oclif's explicit command discovery (package.json `oclif.commands`): the
 * bundle is one module graph, so oclif cannot find commands by listing a folder. A new command is one
 * line here (and its import). Heavy adapters stay out of this graph: they load on first use
 * (src/cli/dependencies.ts, src/lib/lifecycle/connect.ts).
 */
export const COMMANDS = {
  doctor: Doctor,
  down: Down,
  logs: Logs,
  rollback: Rollback,
  status: Status,
  up: Up,
}
