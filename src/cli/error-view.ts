import pc from 'picocolors'

import {ExitCode, isTodoDeployError} from '../lib/errors.js'

/** What every failure shows: what, where, the details, what to do. The JSON output carries the same fields. */
export interface ErrorView {
  exitCode: number
  kind: string
  message: string
  where?: string
  fix?: string
  details: string[]
}

export function toErrorView(error: unknown): ErrorView {
  if (isTodoDeployError(error)) {
    return {
      exitCode: error.exitCode,
      kind: error.name,
      message: error.message,
      where: error.where,
      fix: error.fix,
      details: error.details,
    }
  }
  const oclifExit = (error as {oclif?: {exit?: number}})?.oclif?.exit
  const message = error instanceof Error ? error.message : String(error)
  if (oclifExit === 2 || isParseError(error)) {
    return {
      exitCode: ExitCode.BadInput,
      kind: 'BadInputError',
      message: firstLine(message),
      details: message.split('\n').slice(1).filter((line) => line.trim() !== '' && !/^See more help/.test(line)),
      fix: 'see `todo-deploy <command> --help` for the flags and their values',
    }
  }
  return {
    exitCode: ExitCode.Unexpected,
    kind: 'UnexpectedError',
    message,
    fix: 'this is a bug in todo-deploy: run again with --verbose and report the output',
    details: [],
  }
}

function isParseError(error: unknown): boolean {
  const name = (error as {constructor?: {name?: string}})?.constructor?.name ?? ''
  return /Flag|Args|Parse|Validation|Nonexistent|Required/.test(name)
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text
}

export function renderErrorView(view: ErrorView, options: {color: boolean; stack?: string}): string {
  const paint = options.color ? pc : {red: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s, cyan: (s: string) => s}
  const lines = [`${paint.red('✖')} ${paint.bold(view.message)}`]
  if (view.where) lines.push(`  ${paint.dim('where:')} ${view.where}`)
  for (const detail of view.details) lines.push(`  ${detail}`)
  if (view.fix) lines.push(`  ${paint.cyan('fix:')} ${view.fix}`)
  if (options.stack) lines.push('', paint.dim(options.stack))
  return lines.join('\n')
}
