import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {ExitCode, PrerequisiteError, TodoDeployError} from '../../../src/lib/errors.js'
import {
  installHint,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
} from '../../../src/lib/process/runner.js'

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures')

export function fixture(path: string): string {
  return readFileSync(join(fixturesDir, path), 'utf8')
}

export interface ScriptedAnswer {
  exitCode?: number
  stdout?: string
  stderr?: string
  /** Print the output, then keep running until the caller's signal aborts or its timeout runs out. */
  hang?: boolean
  /** The binary is not installed: answer like ExecaProcessRunner does on ENOENT. */
  missingBinary?: boolean
}

export interface RecordedCall {
  commandLine: string
  options: RunOptions
}

/**
 * A ProcessRunner double: records each command line and answers from a script keyed by the exact
 * command line. Several answers for one line are used in turn, the last one repeats. It streams the
 * output through onLine and honours signal and timeoutMs the way the real runner does.
 */
export class ScriptedProcessRunner implements ProcessRunner {
  readonly calls: RecordedCall[] = []
  private readonly script = new Map<string, ScriptedAnswer[]>()

  on(commandLine: string, ...answers: ScriptedAnswer[]): this {
    this.script.set(commandLine, answers)
    return this
  }

  commandLines(): string[] {
    return this.calls.map((call) => call.commandLine)
  }

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const commandLine = [file, ...args].join(' ')
    this.calls.push({commandLine, options})
    const answers = this.script.get(commandLine)
    const answer = answers?.length === 1 ? answers[0] : answers?.shift()
    if (answer === undefined) throw new Error(`unexpected command: ${commandLine}`)
    if (answer.missingBinary)
      throw new PrerequisiteError(`${file} was not found on PATH`, {fix: installHint(file)})
    const stdout = answer.stdout ?? ''
    const stderr = answer.stderr ?? ''
    emitLines(stdout, 'stdout', options)
    emitLines(stderr, 'stderr', options)
    if (options.signal?.aborted) return {exitCode: 130, stdout, stderr}
    if (answer.hang) {
      await new Promise<void>((resolve, reject) => {
        const timer =
          options.timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                reject(
                  new TodoDeployError(
                    ExitCode.Prerequisite,
                    `\`${[file, ...args.slice(0, 3)].join(' ')}\` did not answer within ${Math.round((options.timeoutMs ?? 0) / 1000)}s`,
                  ),
                )
              }, options.timeoutMs)
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer)
          resolve()
        })
      })
      return {exitCode: 130, stdout, stderr}
    }
    return {exitCode: answer.exitCode ?? 0, stdout, stderr}
  }
}

function emitLines(text: string, stream: 'stdout' | 'stderr', options: RunOptions): void {
  if (!options.onLine) return
  for (const line of text.split('\n')) if (line.length > 0) options.onLine(line, stream)
}
