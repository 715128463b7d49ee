import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Command, Config} from '@oclif/core'
import {captureOutput} from '@oclif/test'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A concrete command class (oclif's `Command` itself is abstract). */
export type CommandClass = Pick<typeof Command, 'run'> & (new (argv: string[], config: Config) => Command)

export interface CommandRun<T> {
  stdout: string
  stderr: string
  result: T | undefined
  /** The exit code the CLI process would end with. */
  exitCode: number
}

/**
 * Runs a command class in this process (so test doubles can be injected) and captures what a user
 * would see. `Cmd.run(argv, root)` inside captureOutput: @oclif/test 4's runCommand loads commands where vi.mock cannot reach.
 */
export async function runCommand<T>(
  command: CommandClass,
  argv: string[],
  options: {cwd?: string} = {},
): Promise<CommandRun<T>> {
  const previousCwd = process.cwd()
  const previousExitCode = process.exitCode
  process.exitCode = undefined
  if (options.cwd) process.chdir(options.cwd)
  try {
    const output = await captureOutput<T>(() => command.run(argv, projectRoot) as Promise<T>, {
      stripAnsi: true,
    })
    const errorExit = (output.error as {oclif?: {exit?: number}} | undefined)?.oclif?.exit
    const exitCode =
      errorExit ?? (typeof process.exitCode === 'number' ? process.exitCode : output.error ? 1 : 0)
    return {stdout: output.stdout, stderr: output.stderr, result: output.result, exitCode}
  } finally {
    process.chdir(previousCwd)
    process.exitCode = previousExitCode
  }
}
