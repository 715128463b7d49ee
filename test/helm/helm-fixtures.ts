import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {ProcessRunner, RunOptions, RunResult} from '../../src/lib/process/runner.js'

export const fixturesDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'helm',
)
export const fixtureChart = path.join(fixturesDir, 'chart', 'todo')

/** The text of a recorded helm output, e.g. `03-failed-upgrade/helm-history-o-json.json`. */
export function fixtureText(relative: string): string {
  return readFileSync(path.join(fixturesDir, relative), 'utf8')
}

/** A recorded `<name>.result.json`: {command, exitCode, stdout, stderr}. */
export function recordedRun(relative: string): RunResult & {command: string} {
  return JSON.parse(fixtureText(relative)) as RunResult & {command: string}
}

export interface RecordedCall {
  file: string
  args: readonly string[]
  options: RunOptions
}

/** A ProcessRunner double: answers each call with the next scripted result and records what was run. */
export class ScriptedRunner implements ProcessRunner {
  readonly calls: RecordedCall[] = []
  private readonly results: Array<RunResult | Error>

  constructor(...results: Array<RunResult | Error>) {
    this.results = results
  }

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push({file, args, options})
    const next = this.results.shift() ?? ok('')
    if (next instanceof Error) throw next
    return next
  }

  /** The args of the only call made. */
  get args(): readonly string[] {
    if (this.calls.length !== 1) throw new Error(`expected one call, got ${this.calls.length}`)
    return this.calls[0]?.args ?? []
  }
}

export function ok(stdout: string): RunResult {
  return {exitCode: 0, stdout, stderr: ''}
}

export function failed(stderr: string, exitCode = 1): RunResult {
  return {exitCode, stdout: '', stderr}
}
