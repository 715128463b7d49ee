import {describe, expect, test, vi} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import {withPreflight} from '../cli/doctor-env.js'
import {PassingPreflight} from '../cli/fake-preflight.js'
import {tempProject} from '../config/temp-project.js'
import {runCommand} from '../support/run-command.js'

withPreflight(() => new PassingPreflight())

describe('doctor with one secret missing', () => {
  // Three secrets set to sentinels (two in the environment, one in .env), GEMINI_API_KEY missing.
  const setUp = () => {
    vi.stubEnv('DATABASE_URL', 'test-secret-value-1')
    vi.stubEnv('JWT_SECRET', 'test-secret-value-2')
    return tempProject({'.env': 'BETTER_AUTH_SECRET=test-secret-value-3\n'})
  }

  test('names the missing secret, exits 2, and prints no secret value', async () => {
    const run = await runCommand(Doctor, [], {cwd: setUp()})
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toContain(
      '✖ secrets present [secrets.present]: missing: GEMINI_API_KEY\n    fix: set them in the environment or in ',
    )
    expect(run.stdout + run.stderr).not.toMatch(/test-secret-value/)
  })

  test('--json names the missing secret and carries no secret value', async () => {
    const run = await runCommand<unknown>(Doctor, ['--json'], {cwd: setUp()})
    expect(run.exitCode).toBe(2)
    const checks = JSON.parse(run.stdout) as {id: string; status: string; detail: string}[]
    expect(checks.find((check) => check.id === 'secrets.present')).toMatchObject({
      status: 'fail',
      detail: 'missing: GEMINI_API_KEY',
    })
    expect(run.stdout + run.stderr + JSON.stringify(run.result)).not.toMatch(/test-secret-value/)
  })

  test('a .env line that is not KEY=value: exit 2 naming the file and line, no value shown', async () => {
    const dir = tempProject({
      '.env': 'DATABASE_URL=test-secret-value-1\nGEMINI_API_KEY test-secret-value-4\n',
    })
    const run = await runCommand(Doctor, [], {cwd: dir})
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toMatch(
      /✖ secrets present \[secrets\.present\]: .*\.env:2: this line is not KEY=value/,
    )
    expect(run.stdout + run.stderr).not.toMatch(/test-secret-value/)
  })
})
