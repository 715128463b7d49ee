import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, onTestFinished, test, vi} from 'vitest'

import {useDependencies} from '../../src/cli/dependencies.js'
import Dev from '../../src/commands/dev.js'
import Doctor from '../../src/commands/doctor.js'
import Down from '../../src/commands/down.js'
import Logs from '../../src/commands/logs.js'
import Rollback from '../../src/commands/rollback.js'
import Status from '../../src/commands/status.js'
import Up from '../../src/commands/up.js'
import {runCommand, type CommandClass, type CommandRun} from '../support/run-command.js'
import {DIRECTORY, HOSTILE_CASES, type CommandName, type HostileCase} from './hostile-cases.js'

const COMMANDS: Record<CommandName, CommandClass> = {
  up: Up,
  status: Status,
  rollback: Rollback,
  down: Down,
  doctor: Doctor,
  dev: Dev,
  logs: Logs,
}
const SECRET_NAMES = ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY', 'BETTER_AUTH_SECRET'] as const
const SENTINEL = 'test-secret-value'
/** A stack frame as Node prints it: what a user must never see without --verbose. */
const STACK_LINE = /^ {4}at /m
/** Inputs of 1 MB must not come back in full: an error stays a screenful. */
const MAX_ERROR_CHARS = 4000

/** Everything the commands could touch: every access and call is recorded, and a call fails at once. */
let touched: string[] = []

function recorder(name: string): unknown {
  const target = function recorded() {}
  return new Proxy(target, {
    get: (_, property) => {
      touched.push(`${name}.${String(property)}`)
      // Not a thenable: `await recorder` must not hang the command.
      return property === 'then' ? undefined : recorder(`${name}.${String(property)}`)
    },
    apply: () => {
      touched.push(`${name}()`)
      throw new Error(`the test double ${name}() was called`)
    },
  })
}

beforeEach(() => {
  touched = []
  const restore = useDependencies({
    connect: () => {
      touched.push('connect')
      return {connection: recorder('connection') as never, stopChildren: () => touched.push('stopChildren')}
    },
    preflight: () => {
      touched.push('preflight')
      return recorder('preflight') as never
    },
  })
  onTestFinished(restore)
  vi.stubEnv('NO_COLOR', '1')
  vi.stubEnv('TODO_DEPLOY_CONFIG', undefined)
  for (const [index, name] of SECRET_NAMES.entries()) vi.stubEnv(name, `${SENTINEL}-${index + 1}`)
})

afterEach(() => {
  vi.unstubAllEnvs()
})

function project(files: HostileCase['files'] = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-hostile-'))
  onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative)
    if (content === DIRECTORY) {
      mkdirSync(file, {recursive: true})
      continue
    }
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, content)
  }
  return dir
}

async function run(row: HostileCase, extraArgv: string[] = []): Promise<CommandRun<unknown>> {
  for (const [name, value] of Object.entries(row.env ?? {})) vi.stubEnv(name, value)
  return runCommand(COMMANDS[row.command], [...row.argv, ...extraArgv], {cwd: project(row.files)})
}

function expectNothingTouchedOrLeaked(result: CommandRun<unknown>): void {
  expect(touched, 'a connection or preflight was used: the bad input reached the cluster').toEqual([])
  const output = `${result.stdout}${result.stderr}`
  expect(output).not.toMatch(STACK_LINE)
  expect(output).not.toContain(SENTINEL)
  expect(output.length).toBeLessThan(MAX_ERROR_CHARS)
}

describe('hostile input: exit 2 naming what and where, no stack, nothing touched', () => {
  test('the table is big enough to mean something', () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(60)
    expect(new Set(HOSTILE_CASES.map((row) => row.name)).size).toBe(HOSTILE_CASES.length)
  })

  test.each(HOSTILE_CASES.map((row) => [`${row.command}: ${row.name}`, row] as const))(
    '%s',
    async (_, row) => {
      const started = Date.now()
      const result = await run(row)
      expect({exitCode: result.exitCode, stderr: result.stderr}).toMatchObject({
        exitCode: row.expect.exitCode,
        stderr: expect.stringMatching(row.expect.message),
      })
      expect(result.stderr).toMatch(row.expect.where)
      expect(result.stderr).toMatch(/\n {2}fix: \S/)
      // oclif's own wrapping ("Parsing --timeout", "See more help with --help") is noise around the message.
      expect(result.stderr).not.toMatch(/Parsing --|See more help/)
      expectNothingTouchedOrLeaked(result)
      // Refusing must be quick: a YAML bomb or a 1 MB value is not expanded or echoed.
      expect(Date.now() - started).toBeLessThan(5000)
    },
  )
})

const JSON_ROWS = [
  'config is a list',
  'config is a YAML bomb (billion laughs)',
  'unknown nested key',
  'chart.path names a folder without Chart.yaml',
  '.env duplicate key',
  'up --timeout "5 minutes"',
  'up --only database',
  'rollback 0',
  'down --keep without --purge',
  'todo-deploy.yaml is a directory',
  'up --values names a missing file',
  'status with an unexpected argument',
]

interface ErrorJson {
  error: {exitCode: number; kind: string; message: string; where?: string; fix?: string; details: string[]}
}

describe('hostile input with --json: one JSON object {error: {exitCode, message, where, fix, details}} on stdout', () => {
  test.each(JSON_ROWS)('%s', async (name) => {
    const row = HOSTILE_CASES.find((candidate) => candidate.name === name)
    if (!row) throw new Error(`no row named ${name}`)
    const result = await run(row, ['--json'])
    expect(result.exitCode).toBe(2)
    const json = JSON.parse(result.stdout) as ErrorJson
    expect(Object.keys(json)).toEqual(['error'])
    expect(json.error).toMatchObject({
      exitCode: 2,
      message: expect.any(String),
      where: expect.any(String),
      fix: expect.any(String),
      details: expect.any(Array),
    })
    const text = [json.error.message, ...json.error.details].join('\n')
    expect(text).toMatch(row.expect.message)
    expect(json.error.where).toMatch(row.expect.where)
    expectNothingTouchedOrLeaked(result)
  })
})

describe('the recording double is wired', () => {
  test('valid input does reach connect (so "never called" above can fail)', async () => {
    await runCommand(Status, [], {cwd: project()})
    expect(touched).toContain('connect')
  })
})
