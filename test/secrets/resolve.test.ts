import path from 'node:path'

import {describe, expect, test} from 'vitest'

import {loadConfig} from '../../src/lib/config/load.js'
import {BadInputError} from '../../src/lib/errors.js'
import {assertSecretsPresent, resolveSecrets} from '../../src/lib/secrets/resolve.js'
import {tempProject} from '../config/temp-project.js'

function project(envFile?: string) {
  const dir = tempProject(envFile === undefined ? {} : {'.env': envFile})
  return {dir, resolved: loadConfig({cwd: dir})}
}

describe('secrets come from the environment, then .env', () => {
  test('the environment wins over .env; .env fills what the environment lacks', () => {
    const {resolved, dir} = project('DATABASE_URL=test-secret-value-file\nJWT_SECRET="test-secret-value-2"\n')
    const resolution = resolveSecrets(resolved, {
      DATABASE_URL: 'test-secret-value-env',
      GEMINI_API_KEY: 'test-secret-value-3',
      BETTER_AUTH_SECRET: 'test-secret-value-4',
    })
    expect(resolution.missing).toEqual([])
    expect(resolution.envFile).toBe(path.join(dir, '.env'))
    const byName = Object.fromEntries(
      resolution.values.map((secret) => [secret.name, [secret.source, secret.reveal()]]),
    )
    expect(byName).toEqual({
      DATABASE_URL: ['environment', 'test-secret-value-env'],
      JWT_SECRET: ['dotenv', 'test-secret-value-2'],
      GEMINI_API_KEY: ['environment', 'test-secret-value-3'],
      BETTER_AUTH_SECRET: ['environment', 'test-secret-value-4'],
    })
  })

  test('an empty environment variable does not hide the .env value', () => {
    const {resolved} = project('GEMINI_API_KEY=test-secret-value-1\n')
    const resolution = resolveSecrets(resolved, {GEMINI_API_KEY: ''})
    expect(resolution.values.find((secret) => secret.name === 'GEMINI_API_KEY')?.source).toBe('dotenv')
  })

  test('missing secrets are refused by name only (exit 2), values never appear', () => {
    const {resolved} = project()
    const resolution = resolveSecrets(resolved, {
      DATABASE_URL: 'test-secret-value-1',
      JWT_SECRET: 'test-secret-value-2',
    })
    expect(resolution.missing).toEqual(['GEMINI_API_KEY', 'BETTER_AUTH_SECRET'])
    let error: unknown
    try {
      assertSecretsPresent(resolution, resolved)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(BadInputError)
    const refusal = error as BadInputError
    expect(refusal.exitCode).toBe(2)
    expect(refusal.message).toBe('missing secrets: GEMINI_API_KEY, BETTER_AUTH_SECRET')
    expect(refusal.fix).toContain('GEMINI_API_KEY=... BETTER_AUTH_SECRET=...')
    expect(JSON.stringify({message: refusal.message, where: refusal.where, fix: refusal.fix})).not.toMatch(
      /test-secret-value/,
    )
  })
})

describe('.env mistakes are refused naming the line', () => {
  test('a line that is not KEY=value', () => {
    const {resolved, dir} = project(
      '# secrets\nDATABASE_URL=test-secret-value-1\nJWT_SECRET test-secret-value-2\n',
    )
    expect(() => resolveSecrets(resolved, {})).toThrow(
      expect.objectContaining({exitCode: 2, where: `${path.join(dir, '.env')}:3`}),
    )
  })

  test('a key given twice names both lines', () => {
    const {resolved, dir} = project('JWT_SECRET=test-secret-value-1\n\nJWT_SECRET=test-secret-value-2\n')
    expect(() => resolveSecrets(resolved, {})).toThrow(
      `${path.join(dir, '.env')}:3: JWT_SECRET is set twice (first on line 1)`,
    )
  })

  test('a refused line does not echo the value written on it', () => {
    const {resolved} = project('JWT_SECRET test-secret-value-9\n')
    let error: unknown
    try {
      resolveSecrets(resolved, {})
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(BadInputError)
    const {message, where, fix, details} = error as BadInputError
    expect(message).toMatch(/:1: this line is not KEY=value$/)
    expect(JSON.stringify({message, where, fix, details})).not.toContain('test-secret-value')
  })
})
