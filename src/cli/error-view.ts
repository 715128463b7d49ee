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
      message: unwrapFlagParsing(error.message)?.inner ?? error.message,
      where: error.where,
      fix: error.fix,
      details: error.details,
    }
  }
  const oclifExit = (error as {oclif?: {exit?: number}})?.oclif?.exit
  const message = error instanceof Error ? error.message : String(error)
  const flagParsing = unwrapFlagParsing(message)
  if (flagParsing) {
    return {
      exitCode: ExitCode.BadInput,
      kind: 'BadInputError',
      message: shortenLongWords(`${flagParsing.flag}: ${flagParsing.inner}`),
      where: flagParsing.flag,
      details: [],
      fix: 'see `todo-deploy <command> --help` for the flags and their values',
    }
  }
  if (oclifExit === 2 || isParseError(error)) {
    const text = shortenLongWords(message.replace(/\n?See more help with --help\s*$/, ''))
    return {
      exitCode: ExitCode.BadInput,
      kind: 'BadInputError',
      message: firstLine(text),
      where: parseErrorWhere(text),
      details: text
        .split('\n')
        .slice(1)
        .filter((line) => line.trim() !== '' && !/^See more help/.test(line)),
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

/** The flag or argument an oclif parse error is about, from its message (oclif's errors carry no common field for it). */
function parseErrorWhere(message: string): string | undefined {
  const argument = /^Unexpected arguments?: (.+)$/m.exec(message)?.[1]
  if (argument !== undefined) return `argument ${argument}`
  return /(?:^|[\s(=])(--[a-z][\w-]*)/.exec(message)?.[1]
}

/** oclif rewrites a flag parser's error as "Parsing --flag \n\t<message>\nSee more help with --help": take it apart. */
function unwrapFlagParsing(message: string): {flag: string; inner: string} | undefined {
  const match = /^Parsing (--[\w-]+) *\n\t([\s\S]*?)(?:\nSee more help with --help)?$/.exec(message)
  return match ? {flag: match[1] as string, inner: match[2] as string} : undefined
}

/** oclif quotes the input in full: a 1 MB value would become a 1 MB message. */
function shortenLongWords(text: string): string {
  return text.replace(/\S{200,}/g, (word) => `${word.slice(0, 60)}… (${word.length} characters)`)
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text
}

export function renderErrorView(view: ErrorView, options: {color: boolean; stack?: string}): string {
  const paint = options.color
    ? pc
    : {red: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s, cyan: (s: string) => s}
  const lines = [`${paint.red('✖')} ${paint.bold(view.message)}`]
  // Say the place once: a flag error names its flag, a configuration error's first detail starts with file:line:col.
  const placeShown =
    view.where === undefined || view.message.includes(view.where) || view.details[0]?.startsWith(view.where)
  if (!placeShown) lines.push(`  ${paint.dim('where:')} ${view.where}`)
  for (const detail of view.details) lines.push(`  ${detail}`)
  if (view.fix) lines.push(`  ${paint.cyan('fix:')} ${view.fix}`)
  if (options.stack) lines.push('', paint.dim(options.stack))
  return lines.join('\n')
}
