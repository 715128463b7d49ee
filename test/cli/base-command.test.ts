import {describe, expect, test} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import {tempProject} from '../config/temp-project.js'
import {runCommand} from '../support/run-command.js'
import {setAllSecrets, withPreflight} from './doctor-env.js'
import {PassingPreflight} from './fake-preflight.js'

let preflight: () => PassingPreflight = () => new PassingPreflight()
withPreflight(() => preflight())

const MISSPELLED = {'todo-deploy.yaml': 'release: todo-chatbot\nnamspace: todo-app-dev\n'}
const STACK_FRAME = /^\s+at .+\(.+:\d+:\d+\)$/m

describe('errors as every command shows them', () => {
  test('a bad input error shows what, where and the fix, and no stack trace', async () => {
    const run = await runCommand(Doctor, [], {cwd: tempProject(MISSPELLED)})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(
      [
        '✖ todo-deploy.yaml: 1 problem in the configuration',
        '  todo-deploy.yaml:2:1  namspace: unknown key (did you mean "namespace"?)',
        '  fix: correct the keys above; the README lists every field with its default',
        '',
      ].join('\n'),
    )
  })

  test('--verbose adds the stack trace', async () => {
    const run = await runCommand(Doctor, ['--verbose'], {cwd: tempProject(MISSPELLED)})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(STACK_FRAME)
    expect(run.stderr).toMatch(/at loadConfig /)
  })

  test('--json puts the error on stdout as {error: {exitCode, kind, message, where, details, fix}}', async () => {
    const run = await runCommand(Doctor, ['--json'], {cwd: tempProject(MISSPELLED)})
    expect(run.exitCode).toBe(2)
    expect(JSON.parse(run.stdout)).toEqual({
      error: {
        exitCode: 2,
        kind: 'BadInputError',
        message: 'todo-deploy.yaml: 1 problem in the configuration',
        where: 'todo-deploy.yaml:2:1',
        details: ['todo-deploy.yaml:2:1  namspace: unknown key (did you mean "namespace"?)'],
        fix: 'correct the keys above; the README lists every field with its default',
      },
    })
  })

  test('an unknown flag exits 2 and points at --help', async () => {
    const run = await runCommand(Doctor, ['--bogus'], {cwd: tempProject()})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(
      '✖ Nonexistent flag: --bogus\n  fix: see `todo-deploy <command> --help` for the flags and their values\n',
    )
  })

  test('an unexpected error exits 1, asks for a bug report, and hides the stack unless --verbose', async () => {
    setAllSecrets()
    preflight = () => {
      throw new TypeError('probe wiring broke')
    }
    try {
      const quiet = await runCommand(Doctor, [], {cwd: tempProject()})
      expect(quiet.exitCode).toBe(1)
      expect(quiet.stderr).toBe(
        '✖ probe wiring broke\n  fix: this is a bug in todo-deploy: run again with --verbose and report the output\n',
      )
      const verbose = await runCommand(Doctor, ['--verbose'], {cwd: tempProject()})
      expect(verbose.exitCode).toBe(1)
      expect(verbose.stderr).toMatch(/TypeError: probe wiring broke\n\s+at /)
    } finally {
      preflight = () => new PassingPreflight()
    }
  })
})
