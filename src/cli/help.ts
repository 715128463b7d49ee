import {Command, CommandHelp, Help} from '@oclif/core'

import {EXIT_CODE_HELP} from '../lib/errors.js'

function exitCodeSection(): string {
  return Object.entries(EXIT_CODE_HELP)
    .map(([code, meaning]) => `  ${code.padEnd(4)}${meaning}`)
    .join('\n')
}

class TodoDeployCommandHelp extends CommandHelp {
  protected override sections(): ReturnType<CommandHelp['sections']> {
    return [
      ...super.sections(),
      {header: 'EXIT CODES', generate: () => exitCodeSection().replace(/^ {2}/gm, '')},
    ]
  }
}

/** oclif's help plus the exit-code table, on the root help and on every command's help. */
export default class TodoDeployHelp extends Help {
  protected override getCommandHelpClass(command: Command.Loadable): CommandHelp {
    return new TodoDeployCommandHelp(command, this.config, this.opts)
  }

  protected override formatRoot(): string {
    return `${super.formatRoot()}\n\n${this.section('EXIT CODES', exitCodeSection().replace(/^ {2}/gm, ''))}`
  }
}
